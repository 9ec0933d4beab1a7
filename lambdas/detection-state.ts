/**
 * Detection state in the buffer table, so stateful detections work across objects in AWS
 * (ingest sees one object, about five minutes of one account × region, at a time).
 *
 * Items:
 * - first sight `s#<sha256(key)>` / `v#<value>`: the event that first showed `value` for a
 *   `firstSeen` key (e.g. a country for a principal) and whether it was news. No TTL: it is the
 *   baseline. Written with a condition, so two objects racing to introduce the same value cannot
 *   both call it new: the loser's message is retried and then sees the winner's sight.
 * - threshold events `t#<sha256(group key)>` / `<maxTime>#<sha256(object key)>`: one object's
 *   matching events for one threshold group (the first and last `count`, gzip JSON), kept for
 *   twice the window. Written before the group is read back with a consistent read, so of two
 *   objects processed at once, the later reader sees both.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { DetectionStateNeeds, FirstSeenState, FirstSight, ThresholdHistory } from '../engine/detect.ts';
import type { TrailEvent } from '../engine/types.ts';
import { MAX_CHUNK_BYTES, TTL_ATTRIBUTE } from './buffer.ts';
import { append, maxOf, minOf } from '../engine/arrays.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** Sort keys compare as strings: times are zero-padded epoch milliseconds. */
const timeKey = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(15, '0');

/** A first sight lost a race with another object's; the message is retried and sees the winner. */
export class FirstSightConflict extends Error {}

export class DetectionStateStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** The baseline of every key in `keys`, read consistently. */
  async loadFirstSeen(keys: Iterable<string>): Promise<FirstSeenState> {
    const state: FirstSeenState = new Map();
    for (const key of keys) {
      const values = new Map<string, FirstSight>();
      for (const item of await this.queryAll(`s#${sha256(key)}`)) {
        values.set(item.sk.S!.slice(2), { eventId: item.eventId.S!, novel: item.novel.BOOL === true });
      }
      state.set(key, values);
    }
    return state;
  }

  /** Stores the sights `after` has and `before` lacked; throws FirstSightConflict if another event won. */
  async saveFirstSeen(before: FirstSeenState, after: FirstSeenState): Promise<void> {
    for (const [key, values] of after) {
      for (const [value, sight] of values) {
        if (before.get(key)?.has(value)) continue;
        try {
          await this.db.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: {
                pk: { S: `s#${sha256(key)}` },
                sk: { S: `v#${value}` },
                eventId: { S: sight.eventId },
                novel: { BOOL: sight.novel },
              },
              ConditionExpression: 'attribute_not_exists(pk) OR eventId = :eventId',
              ExpressionAttributeValues: { ':eventId': { S: sight.eventId } },
            }),
          );
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException)
            throw new FirstSightConflict(`another event was first to show ${value} for a firstSeen key`);
          throw error;
        }
      }
    }
  }

  /** Stores one object's threshold events, then reads back every object's events near them. */
  async exchangeThresholdEvents(
    objectKey: string,
    groups: DetectionStateNeeds['thresholdGroups'],
  ): Promise<ThresholdHistory> {
    const history: ThresholdHistory = new Map();
    const objectHash = sha256(objectKey);
    for (const [key, group] of groups) {
      const pk = `t#${sha256(key)}`;
      const times = group.events.map((e) => e.time);
      const [minTime, maxTime] = [minOf(times), maxOf(times)];
      const withinMs = group.within * 1000;
      // Only the first and last `count` events can complete a window with another object's.
      const sorted = [...group.events].sort((a, b) => a.time - b.time);
      let kept =
        sorted.length <= 2 * group.count
          ? sorted
          : [...sorted.slice(0, group.count), ...sorted.slice(-group.count)];
      let body = gzipSync(JSON.stringify(kept));
      // Huge records: keep the latest events that fit in an item (earlier objects rarely arrive late).
      while (body.length > MAX_CHUNK_BYTES && kept.length > 1) {
        kept = kept.slice(Math.ceil(kept.length / 2));
        body = gzipSync(JSON.stringify(kept));
      }
      await this.db.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: pk },
            sk: { S: `${timeKey(maxTime)}#${objectHash}` },
            minTime: { N: String(minTime) },
            body: { B: body },
            [TTL_ATTRIBUTE]: { N: String(Math.ceil((maxTime + 2 * withinMs) / 1000)) },
          },
        }),
      );
      const near = await this.queryAll(pk, timeKey(minTime - withinMs));
      history.set(
        key,
        near
          .filter((item) => Number(item.minTime.N) <= maxTime + withinMs)
          .flatMap((item) => JSON.parse(gunzipSync(item.body.B!).toString('utf8')) as TrailEvent[]),
      );
    }
    return history;
  }

  private async queryAll(pk: string, fromSk?: string): Promise<NonNullable<QueryCommandOutput['Items']>> {
    const items: NonNullable<QueryCommandOutput['Items']> = [];
    let start: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          KeyConditionExpression: fromSk ? 'pk = :pk AND sk >= :from' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk }, ...(fromSk ? { ':from': { S: fromSk } } : {}) },
          ExclusiveStartKey: start,
        }),
      );
      append(items, page.Items ?? []);
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
