/** The server's message beside the field it names (`aria-describedby` points here). */
export function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={`${id}-error`} className="field-error" role="alert">
      {message}
    </p>
  );
}

/** Props that tie an input to its help text and its error. */
export function describedBy(id: string, message: string | undefined, help?: string) {
  const ids = [help, message ? `${id}-error` : undefined].filter(Boolean).join(' ');
  return { id, 'aria-invalid': message ? true : undefined, 'aria-describedby': ids || undefined } as const;
}
