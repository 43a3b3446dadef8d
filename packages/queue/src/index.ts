export { DEFAULT_QUEUE_PREFIX, EVENTS_QUEUE, EVENTS_GROUP, EVENTS_HANDLED_TTL_SEC, eventsHandledKey, eventStreamKey, eventStreamPausedKey, stageQueueName, expandQueueSelection, workerKey, workerKeyPattern, cancelChannel, canceledAttemptKey } from './queue-names.ts';
export { stageJobId } from './job-ids.ts';
export { jobCatalog, stageJobSchema, stageEventSchema, type StageJob, type StageEvent, type StageEventType, type JobName, type JobPayload } from './job-catalog.ts';
export { openRedis } from './redis-connection.ts';
export { QueueProducer, type QueueProducerOptions, type StageJobToPublish } from './queue-producer.ts';
export { createRedisJobProbe, type ProbedJobState } from './redis-job-probe.ts';
export { EventStreamConsumer, readEventStreamStats, type EventStreamConsumerOptions, type EventStreamStats } from './event-stream-consumer.ts';
export { peekEvents } from './peek-events.ts';
