// Proves storage's names rule over HTTP: names are case-sensitive, so a write that would create a
// measurement or database equal to an existing one but for case is refused with 409
// ARC_NAME_CASE_CONFLICT naming the existing name (and nothing of the request is written), SQL
// finds the one name whatever the case of the identifier, and InfluxQL matches names exactly.
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });

const SECONDS = 1_760_630_400; // 2025-10-16T16:00:00Z
const auth = { Authorization: `Token ${TEST_TOKEN}` };

describe('names differing only by case', () => {
  it('refuses a measurement or database equal to an existing one but for case, naming it', async () => {
    expect((await shared.client.post('/write?db=casedb&precision=s', `cpu,host=a v=1 ${SECONDS}`, auth)).status).toBe(204);
    const measurement = await shared.client.post('/write?db=casedb&precision=s', `CPU,host=b v=2 ${SECONDS}\nmem,host=b v=3 ${SECONDS}`, auth);
    expect(measurement.status, measurement.text).toBe(409);
    expect(measurement.json()).toMatchObject({ code: 'ARC_NAME_CASE_CONFLICT', measurement: 'CPU', existing: 'cpu' });
    const database = await shared.client.post('/write?db=CaseDB&precision=s', `cpu,host=c v=4 ${SECONDS}`, auth);
    expect(database.status, database.text).toBe(409);
    expect(database.json()).toMatchObject({ code: 'ARC_NAME_CASE_CONFLICT', database: 'CaseDB', existing: 'casedb' });
    await shared.client.flush();
    // Nothing of the refused requests landed: not the clashing measurement, not its neighbour.
    expect(await shared.client.rows('SELECT host, v FROM cpu', 'casedb')).toEqual([['a', 1]]);
    expect((await shared.client.query('SELECT count(*) FROM mem', 'casedb')).status).toBe(400);
  });

  it('lets SQL find the one name in any case, and InfluxQL only by its exact name', async () => {
    await shared.client.flush();
    expect(await shared.client.rows('SELECT host FROM CPU', 'casedb')).toEqual([['a']]);
    const exact = await shared.client.get(`/query?db=casedb&q=${encodeURIComponent('SELECT v FROM cpu')}`, auth);
    expect(exact.status, exact.text).toBe(200);
    expect(JSON.stringify(exact.json())).toContain('"name":"cpu"');
    const otherCase = await shared.client.get(`/query?db=casedb&q=${encodeURIComponent('SELECT v FROM "CPU"')}`, auth);
    expect(otherCase.status, otherCase.text).toBe(200);
    expect(JSON.stringify(otherCase.json())).not.toContain('series');
  });
});
