/** The part of a source picture that fills a target size without distortion (centre crop). */
export function coverCrop(srcW: number, srcH: number, dstW: number, dstH: number): { sx: number; sy: number; sw: number; sh: number } {
  const scale = Math.max(dstW / srcW, dstH / srcH);
  const sw = Math.min(srcW, dstW / scale);
  const sh = Math.min(srcH, dstH / scale);
  return { sx: (srcW - sw) / 2, sy: (srcH - sh) / 2, sw, sh };
}

/** CSS size for showing a w x h picture: small pictures scaled up by a whole factor to about `target` px. */
export function displaySize(width: number, height: number, target = 320): { width: number; height: number; pixelated: boolean } {
  const side = Math.max(width, height);
  if (side >= target / 2) {
    const scale = Math.min(1, target / side);
    return { width: Math.round(width * scale), height: Math.round(height * scale), pixelated: false };
  }
  const factor = Math.max(1, Math.floor(target / side));
  return { width: width * factor, height: height * factor, pixelated: true };
}
