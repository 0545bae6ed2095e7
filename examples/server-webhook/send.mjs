#!/usr/bin/env node
/**
 * Posts one CRM conversion to a Pruuv funnel webhook and prints the HTTP status and body.
 * No dependencies: Node's built-in fetch.
 *
 *   PRUUV_URL=http://localhost:8787 STAGE_ID=stg_… WEBHOOK_TOKEN=pwh_… node send.mjs [REFERENCE]
 *   node send.mjs --url http://localhost:8787 --stage stg_… --token pwh_… [--reference CRM-REF-001]
 *
 * Exit code: 0 on a 2xx answer, 1 otherwise, 2 on a usage error.
 */
import { parseArgs } from 'node:util';

const USAGE = `usage: node send.mjs [--url URL] [--stage STAGE_ID] [--token WEBHOOK_TOKEN] [--reference REF] [REF]
  (or set PRUUV_URL, STAGE_ID and WEBHOOK_TOKEN; PRUUV_URL defaults to http://localhost:8787)`;

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      stage: { type: 'string' },
      token: { type: 'string' },
      reference: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  console.error(`error: ${error.message}\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const baseUrl = (values.url ?? process.env.PRUUV_URL ?? 'http://localhost:8787').replace(/\/+$/, '');
const stageId = values.stage ?? process.env.STAGE_ID;
const token = values.token ?? process.env.WEBHOOK_TOKEN;
if (!stageId || !token) {
  console.error(`error: a stage id and a webhook token are required (get them with \`npx pruuv stages add\`)\n${USAGE}`);
  process.exit(2);
}

// The payload of the webhook API (webhook-api.md "Payload reference"): only `reference` is
// required; it is also the dedup key (same reference at the same stage within 60 s).
const event = {
  reference: values.reference ?? positionals[0] ?? `CRM-REF-${Date.now()}`,
  item_reference: 'DEAL-42',
  utm_source: 'google',
  utm_medium: 'cpc',
  utm_campaign: 'brand-search',
  gclid: 'EAIaIQobChMI-example',
  click_timestamp: new Date(Date.now() - 3_600_000).toISOString(),
  revenue_value: 250,
  currency: 'GBP',
  data_timestamp: new Date().toISOString(),
};

const url = `${baseUrl}/api/webhooks/funnel/${encodeURIComponent(stageId)}`;
let response;
try {
  response = await fetch(url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(event),
    signal: AbortSignal.timeout(10_000),
  });
} catch (error) {
  console.error(`error: POST ${url} failed: ${error.cause?.message ?? error.message}`);
  process.exit(1);
}
const text = await response.text();
console.log(`POST ${url} → ${response.status} ${response.statusText}`);
console.log(text);
process.exitCode = response.ok ? 0 : 1;
