// Reads and changes the shop's DynamoDB tables through the AWS SDK (against moto), to check what the
// browser did and to set up situations such as a product running out of stock.

import {
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";

export function dynamoClient(endpoint) {
  return new DynamoDBClient({
    endpoint,
    region: process.env.AWS_REGION ?? "us-east-1",
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "testing",
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "testing",
    },
  });
}

async function scanAll(client, input) {
  const items = [];
  let ExclusiveStartKey;
  do {
    const page = await client.send(new ScanCommand({ ...input, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

const num = (attr) => (attr && attr.N !== undefined ? Number(attr.N) : undefined);

export async function allProducts(client, table) {
  const items = await scanAll(client, { TableName: table });
  return items.map((item) => ({
    productId: item.productId.S,
    name: item.name?.S,
    priceCents: num(item.priceCents),
    stock: num(item.stock),
  }));
}

export async function productStock(client, table, productId) {
  const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { productId: { S: productId } }, ConsistentRead: true }));
  if (!Item) throw new Error(`product ${productId} is not in ${table}`);
  return num(Item.stock);
}

export async function setProductStock(client, table, productId, stock) {
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { productId: { S: productId } },
      UpdateExpression: "SET stock = :stock",
      ConditionExpression: "attribute_exists(productId)",
      ExpressionAttributeValues: { ":stock": { N: String(stock) } },
    }),
  );
}

/// What `up` does to a product that left shopsmart.yaml (`onSale` false), and back.
export async function setProductOnSale(client, table, productId, onSale) {
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { productId: { S: productId } },
      UpdateExpression: "SET onSale = :onSale",
      ConditionExpression: "attribute_exists(productId)",
      ExpressionAttributeValues: { ":onSale": { BOOL: onSale } },
    }),
  );
}

export async function cartLines(client, table, cartId) {
  const { Items } = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: "cartId = :c",
      ExpressionAttributeValues: { ":c": { S: cartId } },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

/** Every order placed by one cart (Orders is keyed by orderId only, so this scans; fine for tests). */
export async function ordersOfCart(client, table, cartId) {
  return scanAll(client, {
    TableName: table,
    FilterExpression: "cartId = :c",
    ExpressionAttributeValues: { ":c": { S: cartId } },
    ConsistentRead: true,
  });
}

export async function orderItem(client, table, orderId) {
  const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { orderId: { S: orderId } }, ConsistentRead: true }));
  return Item ?? null;
}
