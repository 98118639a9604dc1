import {
  DiscardPolicy,
  type JetStreamManager,
  nanos,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from 'nats';
import { CityError } from '../../core/errors.ts';
import { streamSubjects } from './log-message.ts';
import type { JetStreamLogOptions } from './log-options.ts';
import { JS_STREAM_NAME_IN_USE, JS_STREAM_NOT_FOUND, jsErrorCode, logUnavailable } from './nats-errors.ts';

/**
 * The stream's description carries the message format version and the shard count: both must match
 * between the nodes that publish and those that consume, and the server keeps no other field for them
 * (stream metadata needs nats-server 2.10).
 */
export const streamDescription = (o: Pick<JetStreamLogOptions, 'shards'>): string =>
  `citymetrics readings log v1; shards=${o.shards}`;

export function wantedStreamConfig(o: JetStreamLogOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: o.stream,
    description: streamDescription(o),
    subjects: streamSubjects(o),
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    // Old messages go at max_age; a full stream refuses new ones (the edge answers retryable) rather than
    // dropping messages a writer has not read.
    discard: DiscardPolicy.New,
    num_replicas: o.replicas,
    duplicate_window: nanos(o.duplicateWindowMs),
    max_age: nanos(o.maxAgeMs),
  };
}

/** What differs between the stream as it exists and as these options need it; empty when usable. */
export function streamMismatches(existing: StreamInfo['config'], o: JetStreamLogOptions): string[] {
  const want = wantedStreamConfig(o);
  const out: string[] = [];
  if (existing.description !== want.description)
    out.push(
      `description is ${JSON.stringify(existing.description ?? '')}, expected ${JSON.stringify(want.description)} (another format version or shard count)`,
    );
  const subjects = [...(existing.subjects ?? [])].sort().join(',');
  if (subjects !== [...(want.subjects ?? [])].sort().join(','))
    out.push(`subjects are ${subjects}, expected ${want.subjects?.join(',')}`);
  if (existing.storage !== StorageType.File) out.push(`storage is ${existing.storage}, expected file`);
  if (existing.retention !== RetentionPolicy.Limits)
    out.push(`retention is ${existing.retention}, expected limits`);
  if (existing.num_replicas !== o.replicas)
    out.push(`replicas are ${existing.num_replicas}, expected ${o.replicas}`);
  if (existing.duplicate_window !== want.duplicate_window)
    out.push(`duplicate window is ${existing.duplicate_window} ns, expected ${want.duplicate_window} ns`);
  return out;
}

/**
 * Creates the stream when it is missing; checks it when it exists. A stream made by another version or with
 * other settings is refused with INGEST_LOG_MISCONFIGURED naming each difference and the fix, never
 * changed in place: an edge that silently re-sharded would strand messages on subjects no writer reads.
 */
export async function ensureReadingsStream(
  jsm: JetStreamManager,
  o: JetStreamLogOptions,
): Promise<StreamInfo> {
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(o.stream);
  } catch (err) {
    if (jsErrorCode(err) !== JS_STREAM_NOT_FOUND) throw logUnavailable(err, `stream ${o.stream}: info`);
    try {
      return await jsm.streams.add(wantedStreamConfig(o));
    } catch (addErr) {
      // Another node created it first, with other settings: checked below like any existing stream.
      if (jsErrorCode(addErr) !== JS_STREAM_NAME_IN_USE)
        throw logUnavailable(addErr, `stream ${o.stream}: create`);
      try {
        info = await jsm.streams.info(o.stream);
      } catch (infoErr) {
        throw logUnavailable(infoErr, `stream ${o.stream}: info`);
      }
    }
  }
  const problems = streamMismatches(info.config, o);
  if (problems.length > 0)
    throw new CityError(
      'INGEST_LOG_MISCONFIGURED',
      `JetStream stream ${o.stream} cannot be used: ${problems.join('; ')}. Start every node with the ` +
        `settings the stream was made with, or, once its writers have drained it, delete it ` +
        `(nats stream rm ${o.stream}) so that the next start creates it anew`,
      { details: problems },
    );
  return info;
}
