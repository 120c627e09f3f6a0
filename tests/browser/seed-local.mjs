#!/usr/bin/env node
// Creates the three shop tables in the emulator (moto) and seeds the products, for working on the
// storefront before `shopsmart-deploy dev` exists, or to reset a local shop.
//
//   AWS_ENDPOINT_URL=http://127.0.0.1:5104 node tests/browser/seed-local.mjs [prefix]
//
// Tables are named `{prefix}-products`, `{prefix}-carts`, `{prefix}-orders` (default prefix "webdev"),
// with the keys of docs/architecture.md. Existing tables are kept; products are (re)written.
// Prints the env lines to use for the API and the browser tests.

import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceInUseException,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";

export const SEED_PRODUCTS = [
  { productId: "mug", name: "Coffee mug", description: "A 350 ml ceramic mug for the first coffee of the day.", priceCents: 1250, stock: 40 },
  { productId: "tshirt", name: "T-shirt", description: "Soft organic cotton T-shirt with the shop's logo.", priceCents: 1999, stock: 30 },
  { productId: "cap", name: "Baseball cap", description: "Adjustable cotton cap that keeps the sun out of your eyes.", priceCents: 1500, stock: 25 },
  { productId: "notebook", name: "Notebook", description: "A5 dotted notebook, 120 pages of good paper.", priceCents: 899, stock: 50 },
  { productId: "stickers", name: "Sticker pack", description: "Eight weatherproof vinyl stickers.", priceCents: 499, stock: 100 },
  { productId: "bottle", name: "Water bottle", description: "Insulated steel bottle, 500 ml, keeps drinks cold for a day.", priceCents: 2450, stock: 20 },
  { productId: "hoodie", name: "Hoodie", description: "Warm hoodie with a front pocket.", priceCents: 4500, stock: 15 },
  { productId: "tote", name: "Tote bag", description: "Sturdy canvas bag for books and groceries.", priceCents: 1100, stock: 35 },
];

function tableSpecs(prefix) {
  return [
    { TableName: `${prefix}-products`, keys: [["productId", "HASH"]] },
    { TableName: `${prefix}-carts`, keys: [["cartId", "HASH"], ["productId", "RANGE"]] },
    { TableName: `${prefix}-orders`, keys: [["orderId", "HASH"]] },
  ];
}

async function ensureTable(client, { TableName, keys }) {
  try {
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: keys.map(([AttributeName, KeyType]) => ({ AttributeName, KeyType })),
        AttributeDefinitions: keys.map(([AttributeName]) => ({ AttributeName, AttributeType: "S" })),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) {
      throw new Error(`creating DynamoDB table (${TableName}): ${error.message}`, { cause: error });
    }
  }
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName });
  await client.send(new DescribeTableCommand({ TableName }));
}

export async function seedLocal({ prefix = "webdev", client = new DynamoDBClient({}) } = {}) {
  const [products, carts, orders] = tableSpecs(prefix);
  for (const spec of [products, carts, orders]) await ensureTable(client, spec);
  for (const p of SEED_PRODUCTS) {
    await client.send(
      new PutItemCommand({
        TableName: products.TableName,
        Item: {
          productId: { S: p.productId },
          name: { S: p.name },
          description: { S: p.description },
          priceCents: { N: String(p.priceCents) },
          currency: { S: "USD" },
          imageUrl: { S: `images/${p.productId}.svg` },
          stock: { N: String(p.stock) },
        },
      }),
    ).catch((error) => {
      throw new Error(`writing product (${p.productId}) to ${products.TableName}: ${error.message}`, { cause: error });
    });
  }
  return { PRODUCTS_TABLE: products.TableName, CARTS_TABLE: carts.TableName, ORDERS_TABLE: orders.TableName };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!process.env.AWS_ENDPOINT_URL) {
    console.error("AWS_ENDPOINT_URL is not set: start moto (moto_server -H 127.0.0.1 -p PORT) and set AWS_ENDPOINT_URL=http://127.0.0.1:PORT");
    process.exit(2);
  }
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "testing";
  process.env.AWS_SECRET_ACCESS_KEY ??= "testing";
  const prefix = process.argv[2] ?? "webdev";
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(prefix)) {
    console.error(`table prefix "${prefix}" is not valid: use letters, digits, '_', '-', '.'`);
    process.exit(2);
  }
  const tables = await seedLocal({ prefix });
  for (const [name, value] of Object.entries(tables)) console.log(`${name}=${value}`);
}
