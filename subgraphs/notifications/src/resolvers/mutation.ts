import { badUserInput, codedError, isRowId } from '@brokerage/service';
import { WebhookLimitError } from '../db/webhooks-repository';
import type { MutationResolvers } from '../generated/resolvers-types';
import { RefusedUrlError } from '../webhooks/address-guard';
import { newSigningSecret } from '../webhooks/signature';
import { NotificationsErrorCode, webhookNotFound } from './errors';
import { signedInUser } from './signed-in';

const MAX_URL_LENGTH = 2_048;

export const Mutation: MutationResolvers = {
  addWebhook: async (_parent, { url, events }, { webhooks, guard, maxWebhooksPerUser, caller }) => {
    const userId = signedInUser(caller, 'add webhooks');
    if (url.length > MAX_URL_LENGTH)
      throw badUserInput(`url must be at most ${MAX_URL_LENGTH} characters`, 'url');
    if (events.length === 0) throw badUserInput('events must name at least one event', 'events');
    let checked: URL;
    try {
      checked = await guard.check(url);
    } catch (error) {
      if (!(error instanceof RefusedUrlError)) throw error;
      throw codedError(NotificationsErrorCode.WEBHOOK_URL_REFUSED, error.message, {
        field: 'url',
        reason: error.reason,
      });
    }
    const secret = newSigningSecret();
    try {
      const webhook = await webhooks.add(
        userId,
        checked.toString(),
        [...new Set(events)],
        secret,
        maxWebhooksPerUser,
      );
      return { webhook, secret };
    } catch (error) {
      if (error instanceof WebhookLimitError)
        throw codedError(
          NotificationsErrorCode.WEBHOOK_LIMIT_REACHED,
          `You may have at most ${maxWebhooksPerUser} webhooks`,
        );
      throw error;
    }
  },
  removeWebhook: async (_parent, { id }, { webhooks, caller }) => {
    const userId = signedInUser(caller, 'remove webhooks');
    const removed = isRowId(id) ? await webhooks.remove(userId, id) : null;
    if (!removed) throw webhookNotFound(id);
    return removed;
  },
};
