// A labelled <select> of a few fixed values, each with the words it shows.

export function Choice<T extends string>(o: {
  label: string;
  value: T;
  options: readonly (readonly [value: T, text: string])[];
  onChange: (value: T) => void;
  testId: string;
}) {
  return (
    <label>
      {o.label}{' '}
      <select value={o.value} onChange={(e) => o.onChange(e.target.value as T)} data-testid={o.testId}>
        {o.options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}
