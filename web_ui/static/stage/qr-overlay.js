// The QR code an asset carries on screen (issue 13), drawn over whatever page the player
// shows: the image stage or a web page. The browser renderer evaluates this function
// expression with the code's spec in an isolated world before the page loads, so the code
// is in the page's first painted frame and the page's own scripts cannot see or move it.
// spec: {n: modules per side, d: SVG path of the dark modules, corner, size: % of height,
// margin: % of height}.
(function (spec) {
  "use strict";
  if (window.top !== window) { return; }  // frames of the page get no code of their own
  var SVG = "http://www.w3.org/2000/svg";

  function draw() {
    if (document.querySelector("anthias-qr-overlay")) { return; }
    var host = document.createElement("anthias-qr-overlay");
    var side = spec.size + "vh", margin = spec.margin + "vh";
    var vertical = spec.corner.indexOf("top") === 0 ? "top" : "bottom";
    var horizontal = spec.corner.slice(-4) === "left" ? "left" : "right";
    // all:initial first, everything !important: no rule of the page reaches the plate (a
    // page's own !important rules lose to these inline ones). Popover's UA defaults
    // (inset 0, margin auto, a border) are undone too.
    host.style.cssText = [
      "all:initial", "position:fixed", "z-index:2147483647", "display:block",
      "visibility:visible", "opacity:1", "inset:auto", "margin:0", "padding:0", "border:0",
      "overflow:hidden", "pointer-events:none", "background:#fff", "width:" + side,
      "height:" + side, vertical + ":" + margin, horizontal + ":" + margin
    ].join(" !important;") + " !important;";
    // Elements of the page, not markup: a page's Trusted Types policy forbids innerHTML.
    var root = host.attachShadow({mode: "closed"});
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + spec.n + " " + spec.n);
    svg.setAttribute("width", "100%");
    svg.setAttribute("height", "100%");
    svg.setAttribute("shape-rendering", "crispEdges");
    svg.style.display = "block";
    var plate = document.createElementNS(SVG, "rect");
    plate.setAttribute("width", spec.n);
    plate.setAttribute("height", spec.n);
    plate.setAttribute("fill", "#fff");
    var code = document.createElementNS(SVG, "path");
    code.setAttribute("d", spec.d);
    code.setAttribute("fill", "#000");
    svg.appendChild(plate);
    svg.appendChild(code);
    root.appendChild(svg);
    document.documentElement.appendChild(host);
    // The top layer is above anything the page stacks, a full-screen element included.
    if (typeof host.showPopover === "function") {
      host.setAttribute("popover", "manual");
      host.showPopover();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw, {once: true});
  } else {
    draw();
  }
})
