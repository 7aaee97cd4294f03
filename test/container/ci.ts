// Whether the tests run in continuous integration, where the container suite must run rather
// than be skipped. CI services set CI to "true", "1", "yes" or some other word of their own, so
// any value counts but an empty one, "false" and "0" (in any case, spaces aside).
export function inContinuousIntegration(ci: string | undefined): boolean {
  const value = (ci ?? "").trim().toLowerCase();
  return value !== "" && value !== "false" && value !== "0";
}
