/** `git-<commit>` → `<commit>`: the build stage's immutable tag names the commit an image was built from. */
export function commitOfImageTags(tags: readonly string[]): string | undefined {
  for (const tag of tags) {
    const match = /^git-([0-9A-Za-z][0-9A-Za-z._-]{0,99})$/.exec(tag);
    if (match?.[1]) return match[1];
  }
  return undefined;
}
