import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run as buy } from './buy';
import { run as deepPages } from './deep-pages';
import { run as federatedMix } from './federated-mix';
import { run as federatedRead } from './federated-read';
import { run as orderStatusDelivery } from './order-status-delivery';
import { run as priceIngestion } from './price-ingestion';
import { run as priceStream } from './price-stream';
import { formatFigure, formatRatio, quick, reported, root, runStandalone } from './support';
import { run as verifier } from './verifier';

// `npm run bench [-- <scenario>] [-- --quick]`: every scenario (or one) in turn, each printing its
// table and writing bench/results/<scenario>.json; then one table of everything, also written to
// bench/results/summary.json. Figures are ratios measured in one run on this machine; absolute
// numbers vary between machines. --quick runs each at a small size to prove it works (see
// bench/README.md); its figures are not judged.

const scenarios: Record<string, () => Promise<void>> = {
  'price-ingestion': priceIngestion,
  verifier,
  buy,
  'order-status-delivery': orderStatusDelivery,
  'price-stream': priceStream,
  'federated-read': federatedRead,
  'federated-mix': federatedMix,
  'deep-pages': deepPages,
};

async function main() {
  const only = process.argv.slice(2).find((arg) => !arg.startsWith('--'));
  if (only && !(only in scenarios)) {
    throw new Error(`no scenario ${only}; there are: ${Object.keys(scenarios).join(', ')}`);
  }
  const started = performance.now();
  const seconds: Record<string, number> = {};
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only && only !== name) continue;
    const scenarioStarted = performance.now();
    await scenario();
    seconds[name] = (performance.now() - scenarioStarted) / 1_000;
  }
  const total = (performance.now() - started) / 1_000;

  console.log(`\n# Summary${quick ? ' (quick mode: the scenarios ran, the figures mean nothing)' : ''}\n`);
  console.log('| scenario | figure | value |');
  console.log('|---|---|---|');
  for (const { scenario, figures, ratios } of reported) {
    for (const figure of figures) console.log(`| ${scenario} | ${figure.name} | ${formatFigure(figure)} |`);
    for (const ratio of ratios) console.log(`| ${scenario} | **${ratio.name}** | ${formatRatio(ratio)} |`);
    console.log(`| ${scenario} | time taken | ${seconds[scenario]?.toFixed(0) ?? '?'} s |`);
  }
  console.log(`\nAll in ${total.toFixed(0)} s.`);
  const dir = path.join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, quick ? 'summary.quick.json' : 'summary.json'),
    JSON.stringify({ at: new Date().toISOString(), quick, seconds: total, scenarios: reported }, null, 2),
  );
}

runStandalone(main);
