import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api } from './api';
import { ErrorBox, useAction } from './ui';

/**
 * An irreversible or self-affecting action behind a second, explicit confirmation; `effect`
 * says exactly what will happen, next to the confirming button.
 */
export function ConfirmButton({
  label,
  confirm,
  name,
  run,
  effect,
}: {
  label: string;
  confirm: string;
  name: string;
  run(): Promise<unknown>;
  effect?: string;
}) {
  const [asking, setAsking] = useState(false);
  const action = useAction(async () => {
    await run();
    return true;
  });
  if (!asking)
    return (
      <button
        type="button"
        class="danger small"
        onClick={() => setAsking(true)}
        aria-label={`${label} ${name}`}
      >
        {label}
      </button>
    );
  return (
    <fieldset class="confirm">
      <legend class="visually-hidden">
        Confirm: {label} {name}
      </legend>
      {effect && (
        <p class="confirm-effect" data-testid="confirm-effect">
          {effect}
        </p>
      )}
      <button
        type="button"
        class="danger small"
        disabled={action.busy}
        onClick={async () => (await action.go()) && setAsking(false)}
      >
        {confirm}
      </button>{' '}
      <button type="button" class="secondary small" onClick={() => setAsking(false)}>
        Cancel
      </button>
      {action.error && <ErrorBox error={action.error} />}
    </fieldset>
  );
}

/** A ConfirmButton that DELETEs `path` through the API, then calls onDone (a reload). */
export function DeleteButton({
  path,
  name,
  onDone,
  label = 'Delete',
  confirm = 'Confirm delete',
  effect,
}: {
  path: string;
  name: string;
  onDone(): void;
  label?: string;
  confirm?: string;
  effect?: string;
}) {
  return (
    <ConfirmButton
      label={label}
      confirm={confirm}
      {...(effect ? { effect } : {})}
      name={name}
      run={async () => {
        await api('DELETE', path);
        onDone();
      }}
    />
  );
}

/** The small secondary "Edit" button of a table row; its name says what it edits. */
export function EditButton({ name, onClick }: { name: string; onClick(): void }) {
  return (
    <button type="button" class="secondary small" onClick={onClick} aria-label={`Edit ${name}`}>
      Edit
    </button>
  );
}

/** A responsive table in its scrolling wrapper: caption, column heads, then the rows given as children. */
export function DataTable({
  testid,
  caption,
  columns,
  numeric = [],
  actions = false,
  children,
}: {
  testid?: string;
  caption: ComponentChildren;
  columns: string[];
  /** Column heads (from `columns`) to right-align. */
  numeric?: string[];
  /** Add a last, visually hidden "Actions" column head. */
  actions?: boolean;
  children: ComponentChildren;
}) {
  return (
    <div class="table-wrap">
      <table class="responsive" data-testid={testid}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col" class={numeric.includes(c) ? 'num' : undefined}>
                {c}
              </th>
            ))}
            {actions && (
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A labelled text input in a form field; onValue gets the new text on each input. */
export function TextField({
  id,
  label,
  value,
  onValue,
  ...rest
}: {
  id: string;
  label: string;
  value: string;
  onValue(value: string): void;
  type?: 'text' | 'email' | 'password' | 'number' | 'url';
  name?: string;
  required?: boolean;
  disabled?: boolean;
  placeholder?: string;
  autoComplete?: string;
  inputMode?: 'numeric';
  min?: number;
  max?: number;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {/* `as object`: preact types <input> as a union keyed by `type`, which an optional `type` cannot meet */}
      <input id={id} value={value} onInput={(e) => onValue(e.currentTarget.value)} {...(rest as object)} />
    </div>
  );
}
