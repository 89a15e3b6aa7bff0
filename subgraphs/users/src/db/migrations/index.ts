import { CreateUsers1732200000000 } from './1732200000000-create-users';
import { CreateCreditLedger1732400000000 } from './1732400000000-create-credit-ledger';
import { CreditMovesToOrders1733200000000 } from './1733200000000-credit-moves-to-orders';
import { SignIn1733400000000 } from './1733400000000-sign-in';

/** Every migration of the users database, oldest first. */
export const migrations = [
  CreateUsers1732200000000,
  CreateCreditLedger1732400000000,
  CreditMovesToOrders1733200000000,
  SignIn1733400000000,
];
