/** A search box in a filter bar; its label is for screen readers only. */
export function SearchField({
  label,
  placeholder,
  value,
  onChange,
  className = "field-inline grow",
  testId,
}: {
  label: string;
  placeholder: string;
  value: string;
  onChange: (value: string) => void;
  className?: string;
  testId?: string;
}) {
  return (
    <label className={className}>
      <span className="sr-only">{label}</span>
      <input
        type="search"
        placeholder={placeholder}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        data-testid={testId}
      />
    </label>
  );
}
