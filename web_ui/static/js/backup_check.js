// Checks a backup in the browser before anything is sent: it must be a (gzipped) tar archive
// holding the two folders an Anthias backup holds. The restore only asks "Replace everything…?"
// once this passed, and the server checks the archive again before it changes anything.

const BLOCK = 512;
const TREES = [".screenly", "screenly_assets"];

/** The reason ``file`` cannot be a backup ("is not …"), or "" when it looks like one. */
export async function backupProblem(file) {
  const name = file.name.toLowerCase();
  const start = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  const gzipped = start[0] === 0x1f && start[1] === 0x8b;
  let stream;
  if (gzipped && /\.(tar\.gz|tgz)$/.test(name)) {
    stream = file.stream().pipeThrough(new DecompressionStream("gzip"));
  } else if (/\.tar$/.test(name)) {
    stream = file.stream();
  } else {
    return "is not a .tar.gz archive";
  }
  let names;
  try {
    names = await topLevelNames(stream);
  } catch {
    return "is not a .tar.gz archive";
  }
  return TREES.every((tree) => names.has(tree)) ? "" : "is not an Anthias backup";
}

function text(bytes) {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function number(bytes) {
  if (bytes[0] & 0x80) {  // GNU base-256, for members of 8 GiB and more
    return bytes.subarray(1).reduce((value, byte) => value * 256 + byte, 0);
  }
  const digits = text(bytes).trim();
  if (!/^[0-7]*$/.test(digits)) throw new Error("not a tar header");
  return digits ? parseInt(digits, 8) : 0;
}

function checksumOk(header) {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 32 : header[i];
  return number(header.subarray(148, 156)) === sum;
}

function paxPath(bytes) {
  const match = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(bytes));
  return match ? match[1] : null;
}

/** First path components of the archive's members; stops reading once both trees were seen. */
async function topLevelNames(stream) {
  const names = new Set();
  const reader = stream.getReader();
  let buffer = new Uint8Array(0);
  let skip = 0;
  let longName = null;
  let zeros = 0;
  let sawHeader = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const joined = new Uint8Array(buffer.length + value.length);
      joined.set(buffer);
      joined.set(value, buffer.length);
      buffer = joined;
      let at = 0;
      for (;;) {
        if (skip) {
          const passed = Math.min(skip, buffer.length - at);
          skip -= passed;
          at += passed;
          if (skip) break;
        }
        if (buffer.length - at < BLOCK) break;
        const header = buffer.subarray(at, at + BLOCK);
        if (header.every((byte) => byte === 0)) {
          at += BLOCK;
          zeros += 1;
          if (zeros === 2) return names;
          continue;
        }
        zeros = 0;
        if (!checksumOk(header)) throw new Error("not a tar header");
        sawHeader = true;
        const type = String.fromCharCode(header[156]);
        const size = number(header.subarray(124, 136));
        const padded = Math.ceil(size / BLOCK) * BLOCK;
        if (type === "L" || type === "x") {  // a long name for the next member
          if (buffer.length - at < BLOCK + padded) break;  // wait for the rest of it
          const data = buffer.subarray(at + BLOCK, at + BLOCK + size);
          longName = type === "L" ? text(data) : paxPath(data) ?? longName;
          at += BLOCK + padded;
          continue;
        }
        let path = longName ?? text(header.subarray(0, 100));
        const prefix = text(header.subarray(345, 500));
        if (longName === null && text(header.subarray(257, 262)) === "ustar" && prefix) {
          path = `${prefix}/${path}`;
        }
        longName = null;
        const top = path.replace(/^(\.\/)+/, "").split("/")[0];
        if (top && top !== ".") names.add(top);
        if (TREES.every((tree) => names.has(tree))) return names;
        at += BLOCK;
        skip = padded;
      }
      buffer = buffer.slice(at);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  if (!sawHeader) throw new Error("not a tar archive");
  return names;
}
