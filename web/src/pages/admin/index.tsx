import { Link } from '../../router';
import { useSession } from '../../session';
import { ErrorBox, PageTitle } from '../../ui';
import { Audit } from './audit';
import { Groups } from './groups';
import { Permissions } from './permissions';
import { Tokens } from './tokens';
import { Users } from './users';

export const SECTIONS = [
  { id: 'users', label: 'Users', admin: true },
  { id: 'groups', label: 'Groups', admin: false },
  { id: 'permissions', label: 'Permission targets', admin: false },
  { id: 'tokens', label: 'API tokens', admin: false },
  { id: 'audit', label: 'Audit log', admin: true },
];

export function AdminPage({ section }: { section: string }) {
  const { me } = useSession();
  const visible = SECTIONS.filter((s) => me.admin || !s.admin);
  const current = visible.find((s) => s.id === section) ?? visible.find((s) => s.id === 'tokens')!;
  return (
    <>
      <PageTitle title={`Administration: ${current.label}`}>Administration</PageTitle>
      {!me.authenticated ? (
        <ErrorBox error="Sign in to manage users, groups, permissions and API tokens." />
      ) : (
        <>
          <nav aria-label="Administration" class="tabs">
            <ul>
              {visible.map((s) => (
                <li key={s.id}>
                  <Link href={`/admin/${s.id}`} aria-current={s.id === current.id ? 'page' : undefined}>
                    {s.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          {current.id === 'users' && <Users />}
          {current.id === 'groups' && <Groups />}
          {current.id === 'permissions' && <Permissions />}
          {current.id === 'tokens' && <Tokens />}
          {current.id === 'audit' && <Audit />}
        </>
      )}
    </>
  );
}
