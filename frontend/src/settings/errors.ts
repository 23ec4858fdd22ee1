/** The message of a failed request, for a form's error line or a toast. */
export const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
