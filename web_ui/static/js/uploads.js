// Chunked uploads through /api/v2/file_asset: 5,000,000-byte chunks, one X-Upload-Id per file.

import { randomId, xhrUpload } from "./api.js";

export const CHUNK_SIZE = 5_000_000;
const VIDEO_EXT = /\.(avi|mkv|mov|mpg|mpeg|mp4|ts|flv|webm|m4v)$/i;

/** "image" or "video" for an uploaded file, from its type or extension. */
export function uploadKind(file, ext = "") {
  if (file.type.startsWith("video/") || VIDEO_EXT.test(file.name) || VIDEO_EXT.test(ext)) {
    return "video";
  }
  return "image";
}

/**
 * Send one file in chunks. Resolves to {ok, cancelled, uri, ext, message}.
 * ``handle.cancel()`` stops it between or during chunks.
 */
export function uploadFile(file, { onProgress } = {}) {
  const uploadId = randomId();
  let abortCurrent = null;
  let cancelled = false;
  const handle = {
    cancel() { cancelled = true; abortCurrent?.(); },
  };
  handle.done = (async () => {
    const total = file.size;
    let start = 0;
    let last = null;
    do {
      if (cancelled) return { ok: false, cancelled: true };
      const end = Math.min(start + CHUNK_SIZE, total);
      const body = new FormData();
      body.append("file_upload", file.slice(start, end), file.name);
      const headers = { "X-Upload-Id": uploadId };
      if (total > 0) headers["Content-Range"] = `bytes ${start}-${end - 1}/${total}`;
      const base = start;
      last = await xhrUpload("/api/v2/file_asset", body, {
        headers,
        onAbortable: (abort) => { abortCurrent = abort; },
        // The multipart envelope adds a little; scale to this chunk's share of the file.
        onProgress: (loaded, size) => onProgress?.(
          Math.min(total, base + (end - base) * (size ? loaded / size : 1)), total),
      });
      if (last.aborted || cancelled) return { ok: false, cancelled: true };
      if (!last.ok) {
        const rejected = last.data && last.data.error === "Invalid file type.";
        return {
          ok: false, cancelled: false, rejected,
          message: rejected
            ? `“${file.name}” is not an image or video, so it cannot be added.`
            : `“${file.name}” could not be uploaded: ${last.message}`,
        };
      }
      start = end;
      onProgress?.(start, total);
    } while (start < total);
    return { ok: true, cancelled: false, uri: last.data.uri, ext: last.data.ext };
  })();
  return handle;
}
