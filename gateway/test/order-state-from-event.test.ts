import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import type { OrderView } from '@brokerage/orders-contract';
import { parse } from 'graphql';
import { answerFromEvent, carriesAll, ownFieldsSelected } from '../src/subscriptions/order-state-from-event';
import { toOrderStatusQuery } from '../src/subscriptions/order-status-query';

// The API schema the gateway serves, so that the rules hold against the real `Order` type.
const schema = Supergraph.build(readFileSync(path.join(__dirname, '../../schema/supergraph.graphql'), 'utf8'))
  .apiSchema()
  .toGraphQLJSSchema();

const order: OrderView = {
  id: '44891482026867833',
  side: 'BUY',
  quantity: 4,
  price: 250,
  total: 1_000,
  status: 'COMPLETED',
  message: 'Success: Buy order complete.',
  createdAt: '2026-11-22T09:00:00.000Z',
  updatedAt: '2026-11-22T09:00:01.500Z',
  clientOrderId: null,
};

function statusQuery(subscription: string, variables: Record<string, unknown> = { id: order.id }) {
  return { ...toOrderStatusQuery(parse(subscription), undefined, variables), variables };
}

describe("answering an order status subscription from the order's event", () => {
  it("finds the order's own fields, through aliases, fragments and inline fragments", () => {
    const { document } = statusQuery(`subscription ($id: ID!) {
      orderStatus(orderId: $id) { __typename s: status ...F ... on Order { createdAt } }
    } fragment F on Order { total message }`);
    expect([...ownFieldsSelected(schema, document)!].sort()).toEqual([
      'createdAt',
      'message',
      'status',
      'total',
    ]);
  });

  it('needs a read when the selection reaches into another subgraph', () => {
    for (const selection of ['status user { id }', 'status ...F', 'stock { symbol }']) {
      const { document } = statusQuery(
        `subscription ($id: ID!) { orderStatus(orderId: $id) { ${selection} } }
         ${selection.includes('...F') ? 'fragment F on Order { stock { id } }' : ''}`,
      );
      expect(ownFieldsSelected(schema, document)).toBeUndefined();
    }
  });

  it('answers with aliases, fragments, directives and variables applied', () => {
    const { document, variables } = statusQuery(
      `subscription ($id: ID!, $withMessage: Boolean!) {
        mine: orderStatus(orderId: $id) {
          __typename status ...Amounts message @include(if: $withMessage) when: updatedAt
        }
      } fragment Amounts on Order { quantity cost: total }`,
      { id: order.id, withMessage: false },
    );
    expect(answerFromEvent(schema, document, variables, order)).toEqual({
      data: {
        mine: {
          __typename: 'Order',
          status: 'COMPLETED',
          quantity: 4,
          cost: 1_000,
          when: '2026-11-22T09:00:01.500Z',
          __orderStatusForStream: 'COMPLETED',
        },
      },
    });
  });

  it('asks the event for every selected field', () => {
    const fields = new Set(['status', 'total']);
    expect(carriesAll(order, fields)).toBe(true);
    const { total: _total, ...withoutTotal } = order;
    expect(carriesAll(withoutTotal as OrderView, fields)).toBe(false);
  });

  it('needs a read for a field that events written before it existed lack, not for one carried as null', () => {
    const fields = ownFieldsSelected(schema, parse('query { order(id: "1") { status clientOrderId } }'))!;
    const { clientOrderId: _clientOrderId, ...olderEvent } = order;
    expect(carriesAll(olderEvent, fields)).toBe(false);
    expect(carriesAll(order, fields)).toBe(true);
  });
});
