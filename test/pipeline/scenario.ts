/**
 * Delivery scenarios for the pipeline property: how a trail's records are cut into S3 objects
 * (account × region key layout), when each object's notification reaches the queue (late, twice),
 * how the queue batches them, and which AWS calls fail once (before or after they took effect).
 *
 * The arbitrary is kept small on purpose (seeds for the bulk randomness, small integers for what
 * matters), so that shrinking a failure takes a few dozen runs and ends on a readable plan.
 */
import { random } from '../../bin/simulate.ts';
import fc from 'fast-check';
import type { CloudTrailRecord } from '../../engine/types.ts';
import { maxOf, minOf, pushTo } from '../../engine/arrays.ts';

/** Commands a fault can target, per phase; the client follows from the command. */
export const FAULT_COMMANDS = {
  ingest: ['GetObjectCommand', 'BatchWriteItemCommand'],
  flush: ['QueryCommand', 'GetItemCommand', 'PutItemCommand', 'PutObjectCommand', 'DeleteObjectsCommand'],
} as const;
type Phase = keyof typeof FAULT_COMMANDS;
export type FaultCommand = (typeof FAULT_COMMANDS)[Phase][number];

/** Roughly how many calls of each command a run makes: the range a fault's call number is drawn from. */
const TYPICAL_CALLS: Record<FaultCommand, number> = {
  GetObjectCommand: 30,
  BatchWriteItemCommand: 12,
  QueryCommand: 60,
  GetItemCommand: 30,
  PutItemCommand: 20,
  PutObjectCommand: 30,
  DeleteObjectsCommand: 2,
};

export interface Fault {
  phase: Phase;
  command: FaultCommand;
  /** The nth call of this command during this phase (over the whole run) fails, once. */
  nth: number;
  /** `before`: the call never reaches the service; `after`: it took effect, then the caller crashed. */
  when: 'before' | 'after';
}

export interface RawScenario {
  /** Objects per account × region group (records of a group never leave its key prefix). */
  objectsPerGroup: number[];
  /** 0: each group's records cut in time order into contiguous objects; else a random partition. */
  splitSeed: number;
  /** 0: records of an object in time order; else shuffled. */
  orderSeed: number;
  /** Per object (by index): delivered this long after its last event; maybe again later. */
  deliveries: { lateMs: number; againAfterMs: number | null }[];
  /** Messages per SQS batch handed to ingest. */
  batchSize: number;
  dueShards: number;
  faults: Fault[];
}

export interface PlannedObject {
  index: number;
  key: string;
  group: string;
  records: CloudTrailRecord[];
  firstEvent: number;
  lastEvent: number;
  /** When its notification reaches the queue, and when a duplicate notification does (or null). */
  at: number;
  againAt: number | null;
}

export interface Plan {
  raw: RawScenario;
  objects: PlannedObject[];
  batchSize: number;
  dueShards: number;
  faults: Fault[];
}

export const MAX_OBJECTS_PER_GROUP = 5;

/** The simulator's seeded PRNG: a seed replays the same split. */
const prng = random;

function shuffled<T>(items: T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const timeOf = (r: CloudTrailRecord) => Date.parse(r.eventTime as string);
const byTime = (a: CloudTrailRecord, b: CloudTrailRecord) =>
  timeOf(a) - timeOf(b) || String(a.eventID).localeCompare(String(b.eventID));
const iso = (time: number) => new Date(time).toISOString().replace('.000Z', 'Z');
const stamp = (time: number) => iso(time).replace(/[-:]/g, '').slice(0, 13).concat('Z');
const clockOf = (time: number) => iso(time).slice(11, 19);
const minutes = (ms: number) => `${Math.round(ms / 6000) / 10}m`;

/** The account × region groups of a trail's records, in a stable order. */
export function groupRecords(records: CloudTrailRecord[]): Map<string, CloudTrailRecord[]> {
  const groups = new Map<string, CloudTrailRecord[]>();
  for (const record of records) {
    const group = `${record.recipientAccountId}/${record.awsRegion}`;
    pushTo(groups, group, record);
  }
  return new Map([...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Cuts the records into objects and dates their deliveries. */
export function plan(raw: RawScenario, orgId: string, groups: Map<string, CloudTrailRecord[]>): Plan {
  const objects: PlannedObject[] = [];
  [...groups.entries()].forEach(([group, records], g) => {
    const count = Math.min(raw.objectsPerGroup[g] ?? 1, records.length);
    const sorted = [...records].sort(byTime);
    const slots: CloudTrailRecord[][] = Array.from({ length: count }, () => []);
    if (raw.splitSeed === 0) {
      sorted.forEach((record, i) => slots[Math.floor((i * count) / sorted.length)].push(record));
    } else {
      const rand = prng(raw.splitSeed ^ Math.imul(g + 1, 0x9e3779b1));
      for (const record of sorted) slots[Math.floor(rand() * count)].push(record);
    }
    const [account, region] = group.split('/');
    for (const slot of slots.filter((s) => s.length > 0)) {
      const index = objects.length;
      const ordered = raw.orderSeed === 0 ? slot : shuffled(slot, prng(raw.orderSeed + index));
      const times = slot.map(timeOf);
      const lastEvent = maxOf(times);
      const delivery = raw.deliveries[index % raw.deliveries.length];
      const at = lastEvent + delivery.lateMs;
      const day = iso(at).slice(0, 10).replaceAll('-', '/');
      const name = `${account}_CloudTrail_${region}_${stamp(at)}_Prop${String(index).padStart(12, '0')}.json.gz`;
      objects.push({
        index,
        key: `AWSLogs/${orgId}/${account}/CloudTrail/${region}/${day}/${name}`,
        group,
        records: ordered,
        firstEvent: minOf(times),
        lastEvent,
        at,
        againAt: delivery.againAfterMs === null ? null : at + delivery.againAfterMs,
      });
    }
  });
  return { raw, objects, batchSize: raw.batchSize, dueShards: raw.dueShards, faults: raw.faults };
}

export function describeFault(fault: Fault): string {
  const effect = fault.when === 'before' ? 'fails before reaching the service' : 'takes effect, then fails';
  return `${fault.phase}: call #${fault.nth} of ${fault.command} ${effect}`;
}

/** The plan in a few lines: split sizes, delivery order and times, batching, crash points. */
export function describePlan(p: Plan): string {
  const lines = [
    `split (splitSeed ${p.raw.splitSeed}, orderSeed ${p.raw.orderSeed}${p.raw.orderSeed === 0 ? ', time order' : ', shuffled'}):`,
  ];
  for (const [group] of new Map(p.objects.map((o) => [o.group, o]))) {
    const sizes = p.objects.filter((o) => o.group === group).map((o) => `#${o.index}:${o.records.length}`);
    lines.push(`  ${group}: ${sizes.join(' ')}`);
  }
  const deliveries = p.objects
    .flatMap((o) => [
      { at: o.at, text: `#${o.index}@${clockOf(o.at)}(+${minutes(o.at - o.lastEvent)})` },
      ...(o.againAt === null ? [] : [{ at: o.againAt, text: `#${o.index}again@${clockOf(o.againAt)}` }]),
    ])
    .sort((a, b) => a.at - b.at);
  lines.push(`deliveries (last event + lateness): ${deliveries.map((d) => d.text).join(' ')}`);
  lines.push(`batch size ${p.batchSize}, due shards ${p.dueShards}`);
  lines.push(p.faults.length === 0 ? 'faults: none' : `faults: ${p.faults.map(describeFault).join('; ')}`);
  return lines.join('\n');
}

const faultArbitrary: fc.Arbitrary<Fault> = fc
  .constantFrom(
    ...(Object.entries(FAULT_COMMANDS) as [Phase, readonly FaultCommand[]][]).flatMap(([phase, commands]) =>
      commands.map((command) => ({ phase, command })),
    ),
  )
  .chain(({ phase, command }) =>
    fc.record({
      phase: fc.constant(phase),
      command: fc.constant(command),
      nth: fc.integer({ min: 1, max: TYPICAL_CALLS[command] }),
      when: fc.constantFrom<'before' | 'after'>('before', 'after'),
    }),
  );

export function rawScenarioArbitrary(groupCount: number, settleDelayMs: number): fc.Arbitrary<RawScenario> {
  const maxObjects = groupCount * MAX_OBJECTS_PER_GROUP;
  return fc.record({
    objectsPerGroup: fc.array(fc.integer({ min: 1, max: MAX_OBJECTS_PER_GROUP }), {
      minLength: groupCount,
      maxLength: groupCount,
    }),
    splitSeed: fc.nat(),
    orderSeed: fc.nat(),
    deliveries: fc.array(
      fc.record({
        lateMs: fc.integer({ min: 0, max: 3 * settleDelayMs }),
        againAfterMs: fc.option(fc.integer({ min: 0, max: 2 * settleDelayMs }), { freq: 4 }),
      }),
      { minLength: maxObjects, maxLength: maxObjects },
    ),
    batchSize: fc.constantFrom(1, 2, 3, 5, 10, 100),
    dueShards: fc.integer({ min: 1, max: 4 }),
    faults: fc.array(faultArbitrary, { maxLength: 3 }),
  });
}

/** Plans whose fast-check rendering is the readable description above. */
export function planArbitrary(
  orgId: string,
  groups: Map<string, CloudTrailRecord[]>,
  settleDelayMs: number,
): fc.Arbitrary<Plan> {
  return rawScenarioArbitrary(groups.size, settleDelayMs).map((raw) => {
    const p = plan(raw, orgId, groups);
    Object.defineProperty(p, fc.toStringMethod, { value: () => `\n${describePlan(p)}\n`, enumerable: false });
    return p;
  });
}
