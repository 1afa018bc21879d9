import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkRemoteSettings,
  keepStoredPassword,
  maskSettings,
  touchesCredentials,
} from '../../src/repos/remote/remote-settings.ts';

describe('remote repository settings', () => {
  it('normalises good settings and fills the defaults', () => {
    const { settings, problems } = checkRemoteSettings({
      url: 'https://registry-1.docker.io/',
      pathPrefix: 'library/',
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, {
      url: 'https://registry-1.docker.io',
      ttlSeconds: 300,
      offline: false,
      pathPrefix: 'library/',
    });
  });

  it('names every problem', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /settings.url must be the upstream registry URL/],
      [{ url: 'ftp://x' }, /must be http or https, not ftp:/],
      [{ url: 'https://u:p@x' }, /not in the URL/],
      [{ url: 'https://x', username: 'u' }, /username and settings.password go together/],
      [{ url: 'https://x', ttlSeconds: -1 }, /ttlSeconds must be a whole number/],
      [{ url: 'https://x', ttlSeconds: '60' }, /ttlSeconds must be a whole number/],
      [{ url: 'https://x', offline: 'yes' }, /offline must be true or false/],
    ];
    for (const [raw, message] of cases) {
      const { problems } = checkRemoteSettings(raw);
      assert.ok(
        problems.some((p) => message.test(p)),
        `${JSON.stringify(raw)}: ${problems.join('; ')}`,
      );
    }
  });

  it('never shows the password', () => {
    assert.deepEqual(maskSettings({ url: 'x', username: 'u', password: 'secret' }), {
      url: 'x',
      username: 'u',
      password: '********',
    });
    assert.deepEqual(maskSettings({ url: 'x' }), { url: 'x' });
  });
});

it('keepStoredPassword: a password left out or still masked stays as stored while the user and URL are the same', () => {
  const current = { url: 'https://r.example', username: 'bot', password: 's3cret' };
  assert.deepEqual(keepStoredPassword(current, { url: 'https://r.example/', ttlSeconds: 60 }), {
    url: 'https://r.example/',
    ttlSeconds: 60,
    username: 'bot',
    password: 's3cret',
  });
  assert.deepEqual(keepStoredPassword(current, { ...maskSettings(current), offline: true }), {
    ...current,
    offline: true,
  });
  assert.deepEqual(keepStoredPassword(current, { url: 'https://r.example', username: 'other' }), {
    url: 'https://r.example',
    username: 'other',
  });
  assert.deepEqual(keepStoredPassword(current, { url: 'x', username: 'bot', password: 'new' }), {
    url: 'x',
    username: 'bot',
    password: 'new',
  });
  assert.deepEqual(keepStoredPassword({ url: 'x' }, { url: 'y' }), { url: 'y' });
});

it('keepStoredPassword: a new URL drops the stored credentials unless they are given again', () => {
  const current = { url: 'https://r.example', username: 'bot', password: 's3cret' };
  assert.deepEqual(keepStoredPassword(current, { url: 'https://attacker.example' }), {
    url: 'https://attacker.example',
  });
  assert.deepEqual(keepStoredPassword(current, { ...maskSettings(current), url: 'https://r3.example' }), {
    url: 'https://r3.example',
  });
  assert.deepEqual(
    keepStoredPassword(current, { url: 'https://r3.example', username: 'bot', password: 'again' }),
    { url: 'https://r3.example', username: 'bot', password: 'again' },
  );
});

it('touchesCredentials: setting, changing, removing credentials or moving them to another URL', () => {
  const current = { url: 'https://r.example', username: 'bot', password: 's3cret' };
  const masked = maskSettings(current);
  assert.equal(touchesCredentials(undefined, { url: 'https://r.example' }), false);
  assert.equal(touchesCredentials(undefined, current), true);
  assert.equal(touchesCredentials(current, { ...masked, ttlSeconds: 10 }), false);
  assert.equal(touchesCredentials(current, { url: 'https://r.example/' }), false);
  assert.equal(touchesCredentials(current, { ...masked, password: 'new' }), true);
  assert.equal(touchesCredentials(current, { ...masked, username: 'other' }), true);
  assert.equal(touchesCredentials(current, { ...masked, url: 'https://elsewhere.example' }), true);
  assert.equal(touchesCredentials(current, { ...current, url: 'https://elsewhere.example' }), true);
  assert.equal(touchesCredentials({ url: 'https://r.example' }, { url: 'https://elsewhere.example' }), false);
});
