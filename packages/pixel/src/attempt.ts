/**
 * Fail-soft wrapper: the pixel runs on other people's pages, where cookies may be
 * blocked, `localStorage` may throw (sandboxed iframes, Safari private mode, quota)
 * and third-party code may have patched anything. A failure there must cost us
 * data, never break the page (ARCHITECTURE.md, goal 3).
 */
export const attempt = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch {
    // Fails soft: `undefined`.
  }
};
