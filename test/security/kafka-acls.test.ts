import { AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { storeAccess } from '../../scripts/store-access';
import { kafkaAcls } from '../../scripts/provision-stores';

// Each price fetcher process follows the stock listings in a consumer group of its own
// (`price-fetcher-<uuid>`, so every replica hears every announcement): its group ACL must cover
// the prefix, or a provisioned cluster refuses the follower. Every other group is one name; the
// orders service has two (its outcomes and prices, and its view of the stock listings).
describe('Kafka ACLs of the services', () => {
  it('give the price fetcher its groups by prefix and every other service its groups by name', () => {
    const access = storeAccess();
    const groupAcls = Object.entries(access).flatMap(([service, { kafka }]) =>
      kafka
        ? kafkaAcls(service, kafka).filter(({ resourceType }) => resourceType === AclResourceTypes.GROUP)
        : [],
    );
    const byService: Record<string, Array<[string, ResourcePatternTypes]>> = {};
    for (const acl of groupAcls) {
      const service = acl.principal.replace('User:', '');
      (byService[service] ??= []).push([acl.resourceName, acl.resourcePatternType]);
    }
    expect(byService['price-fetcher']).toEqual([['price-fetcher', ResourcePatternTypes.PREFIXED]]);
    expect(byService.orders).toEqual([
      ['orders', ResourcePatternTypes.LITERAL],
      ['orders-listings', ResourcePatternTypes.LITERAL],
    ]);
    for (const [service, groups] of Object.entries(byService)) {
      if (service !== 'price-fetcher')
        for (const [, pattern] of groups) expect(pattern).toBe(ResourcePatternTypes.LITERAL);
    }
  });
});
