import { describe, expect, it } from 'vitest';
import { grpcTarget } from './sections.js';

describe('grpcTarget (a peer address the kit client dials round_robin)', () => {
  it.each([
    'user-service:50051',
    '127.0.0.1:50051',
    'dns:///user-service.warden.svc.cluster.local:50051',
    'dns://10.0.0.10:53/authz-service:50053',
    'ipv4:127.0.0.1:50051',
    'ipv4:127.0.0.1:50051,127.0.0.1:50061',
  ])('accepts %s', (target) => {
    expect(grpcTarget().safeParse(target).success).toBe(true);
  });

  it.each([
    '',
    'user-service',
    'dns:///user-service',
    'http://user-service:50051',
    'ipv4:user-service:50051',
    'ipv4:127.0.0.1:50051,',
    'user-service:50051 ',
  ])('refuses %j', (target) => {
    expect(grpcTarget().safeParse(target).success).toBe(false);
  });
});
