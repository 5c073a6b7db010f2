// The Screens page: the organisation's linked screens (the fleet), their detail, the fleet
// tokens and the proof-of-play report, each a view of its own address under #/screens:
//   #/screens                  the fleet list (with Create a pairing code, Claim a code)
//   #/screens/device/<id>      one screen: its facts, inventory and plays
//   #/screens/tokens           fleet tokens
//   #/screens/report           proof of play
//   #/screens/claim/<CODE>     the fleet list with the claim dialog open on a screen's code
//                              (the address a screen's QR code leads to)

const VIEWS = [
  ["", "Screens", () => import("./screens_list.js"), "devices.view"],
  ["tokens", "Fleet tokens", () => import("./screens_tokens.js"), "devices.manage"],
  ["report", "Proof of play", () => import("./screens_report.js"), "devices.view"],
];

/** What the address asks for: {view, arg}. */
function wanted() {
  const parts = location.hash.replace(/^#\/screens\/?/, "").split("/").filter(Boolean)
    .map((part) => decodeURIComponent(part));
  return { view: parts[0] || "", arg: parts[1] || "" };
}

export async function render(root, ctx) {
  const { h, replaceChildren } = ctx.ui;
  const { view, arg } = wanted();
  const views = VIEWS.filter((entry) => ctx.can(entry[3]));
  const tabs = h("nav", { class: "tabs", "aria-label": "Screens sections" },
    views.map(([id, title]) => {
      const current = id === view || (id === "" && ["device", "claim"].includes(view));
      return h("a", { href: id ? `#/screens/${id}` : "#/screens",
                      "aria-current": current ? "page" : null }, title);
    }));
  const body = h("div", { class: "screens-view" });
  replaceChildren(root, tabs, body);
  const known = views.find(([id]) => id === view);
  if (view === "device") {
    const module = await import("./screens_device.js");
    await module.render(body, ctx, arg);
  } else if (known) {
    const module = await known[2]();
    await module.render(body, ctx);
  } else if (view === "claim") {
    const module = await import("./screens_list.js");
    await module.render(body, ctx, { claim: arg });
  } else {
    const module = await import("./screens_list.js");
    await module.render(body, ctx);
  }
}
