import { loadCommonPasswords, Passwords, validUsername } from '../src/passwords';

describe('passwords', () => {
  const common = loadCommonPasswords();
  const passwords = new Passwords(common);
  const codeOf = (run: () => void) => {
    try {
      run();
      return undefined;
    } catch (error) {
      return (error as { extensions: { code: string } }).extensions.code;
    }
  };

  it('ships the 10,000 most common passwords', () => {
    // 10,000 lines, of which some differ only in case: compared case-insensitively, they are one.
    expect(common.size).toBe(9_913);
    for (const password of ['123456', 'password', 'qwerty123456']) expect(common.has(password)).toBe(true);
  });

  it.each([
    ['11 characters', 'abcdefghijk', 'WEAK_PASSWORD'],
    ['a common password in any case', 'QwErTy123456', 'WEAK_PASSWORD'],
    ['the username', 'Some.User.Name', 'WEAK_PASSWORD'],
    ['129 characters', 'x'.repeat(129), 'BAD_USER_INPUT'],
    ['12 characters, none of the above', 'twelve chars', undefined],
    ['128 characters', 'x'.repeat(128), undefined],
  ])('answers %s with %s', (_case, password, code) => {
    expect(codeOf(() => passwords.check(password, 'some.user.name', 'input.password'))).toBe(code);
  });

  it('verifies the right password only, and nothing against no hash', async () => {
    const hash = await passwords.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await passwords.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await passwords.verify(hash, 'correct horse battery stapler')).toBe(false);
    expect(await passwords.verify(undefined, 'correct horse battery staple')).toBe(false);
    expect(await passwords.verify('not a hash', 'anything at all')).toBe(false);
  });

  it.each(['abc', 'a.b-c_d', 'A'.repeat(32)])('accepts the username %s', (name) => {
    expect(validUsername(name)).toBe(name);
  });

  it.each(['ab', 'A'.repeat(33), '.dot', 'sp ace', 'ünï', 'a/b', ''])('refuses the username %j', (name) => {
    expect(codeOf(() => validUsername(name))).toBe('BAD_USER_INPUT');
  });
});
