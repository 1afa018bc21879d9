import { clip } from './digest.ts';
import { OciError } from './errors.ts';

/** distribution-spec name grammar: path components of lowercase alphanumerics and separators. */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const MAX_NAME_LENGTH = 255;

/** Validates an OCI name (`repository/image`), throwing NAME_INVALID with the reason. */
export function checkName(name: string): string {
  if (name.length === 0) throw new OciError('NAME_INVALID', 'name is empty');
  if (name.length > MAX_NAME_LENGTH) {
    throw new OciError(
      'NAME_INVALID',
      `name is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`,
    );
  }
  for (const component of name.split('/')) {
    if (component === '')
      throw new OciError('NAME_INVALID', `name "${clip(name)}" has an empty path component`);
    if (!COMPONENT.test(component)) {
      throw new OciError(
        'NAME_INVALID',
        `name component "${clip(component)}" is invalid: use lowercase letters, digits and single . _ __ or - between them`,
      );
    }
  }
  return name;
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

export function checkTag(value: string): string {
  if (!TAG.test(value)) {
    throw new OciError(
      'MANIFEST_INVALID',
      `tag "${clip(value)}" is invalid: up to 128 of [A-Za-z0-9_.-], not starting with . or -`,
    );
  }
  return value;
}

/** Repository keys name repositories: `docker-dev-local`. Same alphabet as a name component. */
export function isRepositoryKey(value: string): boolean {
  return value.length <= 64 && COMPONENT.test(value);
}
