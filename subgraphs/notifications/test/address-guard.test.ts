import type { LookupAddress } from 'node:dns';
import { AddressGuard, AllowList, isRefusedAddress, RefusedUrlError } from '../src/webhooks/address-guard';

const resolvesTo =
  (table: Record<string, string[]>) =>
  (hostname: string): Promise<LookupAddress[]> => {
    const addresses = table[hostname];
    if (!addresses) return Promise.reject(new Error(`ENOTFOUND ${hostname}`));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };

async function reason(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof RefusedUrlError) return error.reason;
    throw error;
  }
}

describe('the webhook address guard', () => {
  it.each([
    '0.0.0.0',
    '10.1.2.3',
    '100.64.0.1',
    '100.127.255.254',
    '127.0.0.1',
    '127.255.0.9',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '::',
    '::1',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a9fe:a9fe',
    '::127.0.0.1',
    'not an address',
  ])('refuses %s: private, loopback, link-local, unique-local, CGNAT or unspecified', (address) => {
    expect(isRefusedAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '93.184.215.14', '100.128.0.1', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'lets public %s through',
    (address) => {
      expect(isRefusedAddress(address)).toBe(false);
    },
  );

  const guard = (allow = '', allowHttp = false, table: Record<string, string[]> = {}) =>
    new AddressGuard({ allowList: AllowList.parse(allow), allowHttp, resolve: resolvesTo(table) });

  it('refuses other schemes, credentials, and http outside development unless allow-listed', async () => {
    expect(await reason(guard().check('ftp://example.com/x'))).toBe('SCHEME');
    expect(await reason(guard().check('file:///etc/passwd'))).toBe('SCHEME');
    expect(await reason(guard().check('not a url'))).toBe('INVALID_URL');
    expect(await reason(guard().check('https://user:secret@example.com/'))).toBe('CREDENTIALS');
    expect(await reason(guard().check('http://example.com/'))).toBe('HTTPS_REQUIRED');
    const table = { 'example.com': ['93.184.215.14'] };
    expect(await reason(guard('', true, table).check('http://example.com/'))).toBeUndefined();
    expect(await reason(guard('127.0.0.1').check('http://127.0.0.1:8080/hook'))).toBeUndefined();
  });

  it('refuses a host any of whose addresses is private, and one that does not resolve', async () => {
    const table = {
      'public.example': ['93.184.215.14', '2606:4700::1111'],
      'sneaky.example': ['93.184.215.14', '10.0.0.5'],
      'mapped.example': ['::ffff:169.254.169.254'],
    };
    expect(await reason(guard('', false, table).check('https://public.example/hook'))).toBeUndefined();
    expect(await reason(guard('', false, table).check('https://sneaky.example/hook'))).toBe('ADDRESS');
    expect(await reason(guard('', false, table).check('https://mapped.example/hook'))).toBe('ADDRESS');
    expect(await reason(guard('', false, table).check('https://nowhere.example/hook'))).toBe('UNRESOLVABLE');
    expect(await reason(guard().check('https://[::ffff:127.0.0.1]/'))).toBe('ADDRESS');
    expect(await reason(guard().check('https://[fd00::1]/'))).toBe('ADDRESS');
  });

  it('lets allow-listed names, addresses and networks through, and nothing next to them', async () => {
    const table = { 'receiver.internal': ['10.1.2.3'], 'other.internal': ['10.9.0.1'] };
    const allowing = guard('receiver.internal, 192.168.5.0/24, ::1', false, table);
    expect(await reason(allowing.check('https://receiver.internal/hook'))).toBeUndefined();
    expect(await reason(allowing.check('http://192.168.5.77/hook'))).toBeUndefined();
    expect(await reason(allowing.check('http://[::1]:9000/hook'))).toBeUndefined();
    expect(await reason(allowing.check('https://other.internal/hook'))).toBe('ADDRESS');
    expect(await reason(allowing.check('https://192.168.6.1/hook'))).toBe('ADDRESS');
    expect(() => AllowList.parse('10.0.0.0/33')).toThrow('not a network');
  });

  it('hands the socket only addresses it accepts, as DNS answers at connection time', async () => {
    const table: Record<string, string[]> = { 'hook.example': ['93.184.215.14'] };
    const lookup = guard('', false, table).lookup();
    const connect = (all: boolean) =>
      new Promise<unknown>((resolve, reject) =>
        lookup('hook.example', { all }, (error, address) => (error ? reject(error) : resolve(address))),
      );
    expect(await connect(false)).toBe('93.184.215.14');
    expect(await connect(true)).toEqual([{ address: '93.184.215.14', family: 4 }]);
    // The name now points inside (DNS rebinding): the connection is refused.
    table['hook.example'] = ['169.254.169.254'];
    await expect(connect(false)).rejects.toMatchObject({ code: 'EREFUSED' });
  });
});
