import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { fragmentsOf } from '../src/security/root-fields';
import { signInUsernames } from '../src/security/sign-in-limit';

const schema = buildSchema(
  readFileSync(path.join(__dirname, '../../subgraphs/users/schema.graphql'), 'utf8')
    .replace(/extend schema @link[^\n]*\n/, '')
    .replace(/@key\([^)]*\)|@shareable/g, ''),
);

function usernames(query: string, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  )!;
  return signInUsernames(schema, operation, fragmentsOf(document), variables);
}

describe('the usernames a sign-in operation tries', () => {
  it('reads each signIn, under aliases, in fragments and from variables', () => {
    expect(
      usernames(
        `mutation ($u: String!) {
          a: signIn(input: { username: "alice", password: "p" }) { accessToken }
          b: signIn(input: { username: $u, password: "p" }) { accessToken }
          ... on Mutation { c: signIn(input: { username: "carol", password: "p" }) { accessToken } }
          ...More
        }
        fragment More on Mutation { d: signIn(input: { username: "dave", password: "p" }) { accessToken } }`,
        { u: 'bob' },
      ),
    ).toEqual(['alice', 'bob', 'carol', 'dave']);
  });

  it('leaves out what will not run: skipped fields, other mutations, arguments that do not coerce', () => {
    expect(
      usernames(`mutation {
        skipped: signIn(input: { username: "skipped", password: "p" }) @skip(if: true) { accessToken }
        signOut(refreshToken: "x")
      }`),
    ).toEqual([]);
    expect(
      usernames('mutation ($u: String!) { signIn(input: { username: $u, password: "p" }) { accessToken } }', {
        u: 5,
      }),
    ).toEqual([]);
  });
});
