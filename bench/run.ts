import { run as buy } from './buy';
import { run as orderStatusDelivery } from './order-status-delivery';
import { run as priceIngestion } from './price-ingestion';
import { run as verifier } from './verifier';

// `npm run bench`: every scenario in turn, each printing its table and writing bench/results/*.json.
// Figures are ratios measured in one run on this machine; absolute numbers vary between machines.

const scenarios: Record<string, () => Promise<void>> = {
  'price-ingestion': priceIngestion,
  verifier,
  buy,
  'order-status-delivery': orderStatusDelivery,
};

async function main() {
  const only = process.argv[2];
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only && only !== name) continue;
    await scenario();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
