import type { ReactNode } from "react";

/** A list page's table: a header cell per column, then the rows. */
export function ListTable({
  columns,
  testId,
  children,
}: {
  /** In order; a column without a visible name gets one for screen readers (<span className="sr-only">). */
  columns: readonly ReactNode[];
  testId: string;
  children: ReactNode;
}) {
  return (
    <table className="table" data-testid={testId}>
      <thead>
        <tr>
          {columns.map((column, i) => (
            <th key={i} scope="col">
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** A small button in a row's actions cell; `danger` for one that removes the row's object. */
export function RowButton({
  onClick,
  danger = false,
  testId,
  children,
}: {
  onClick: () => void;
  danger?: boolean;
  testId?: string;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className={danger ? "button button-small button-danger" : "button button-small"}
      onClick={onClick}
      data-testid={testId}
    >
      {children}
    </button>
  );
}
