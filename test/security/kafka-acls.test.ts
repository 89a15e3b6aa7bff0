import { AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { storeAccess } from '../../common/src/store-access';
import { kafkaAcls } from '../../scripts/provision-stores';

// Each price fetcher process follows the stock listings in a consumer group of its own
// (`price-fetcher-<uuid>`, so every replica hears every announcement): its group ACL must cover
// the prefix, or a provisioned cluster refuses the follower. Every other group is one name.
describe('Kafka ACLs of the services', () => {
  it('give the price fetcher its groups by prefix and every other service its one group', () => {
    const access = storeAccess();
    const groupAcls = Object.entries(access).flatMap(([service, { kafka }]) =>
      kafka
        ? kafkaAcls(service, kafka).filter(({ resourceType }) => resourceType === AclResourceTypes.GROUP)
        : [],
    );
    const byService = Object.fromEntries(
      groupAcls.map((acl) => [
        acl.principal.replace('User:', ''),
        [acl.resourceName, acl.resourcePatternType],
      ]),
    );
    expect(byService['price-fetcher']).toEqual(['price-fetcher', ResourcePatternTypes.PREFIXED]);
    for (const [service, [, pattern]] of Object.entries(byService)) {
      if (service !== 'price-fetcher') expect(pattern).toBe(ResourcePatternTypes.LITERAL);
    }
  });
});
