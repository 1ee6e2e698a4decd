// Node.js client suite: @grpc/grpc-js with @grpc/proto-loader loading proto/
// directly, against the real `diplomacy` binary on an ephemeral port.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const { root, startServer } = require('./server');

const definition = protoLoader.loadSync(
  ['diplomacy/v1/relation.proto', 'diplomacy/v1/country.proto', 'diplomacy/v1/treaty.proto',
    'diplomacy/v1/actor.proto', 'diplomacy/v1/event.proto'],
  { includeDirs: [path.join(root, 'proto')], keepCase: true, enums: String, defaults: true, longs: Number },
);
const v1 = grpc.loadPackageDefinition(definition).diplomacy.v1;

let server;
let address;

before(async () => {
  server = await startServer('diplomacy-node-');
  ({ address } = server);
});

after(async () => {
  await server.stop();
});

const client = (Service) => new Service(address, grpc.credentials.createInsecure());
const call = (stub, method, request, options = {}) =>
  new Promise((resolve, reject) => stub[method](request, options, (err, res) => (err ? reject(err) : resolve(res))));

test('GetRelation: Türkiye and Armenia have no relations on 2024-08-27', async () => {
  const relation = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/TR/relations/AM',
    as_of: { year: 2024, month: 8, day: 27 },
  });
  assert.equal(relation.diplomatic_status, 'DIPLOMATIC_STATUS_NONE');
  assert.deepEqual(relation.status_since, { year: 1991, month: 12, day: 0 });
  assert.equal(relation.status_record, 'events/f03');
});

test('GetRelation: Türkiye and Azerbaijan are allied on 2022-01-01', async () => {
  const relation = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/AZ/relations/TR',
    as_of: { year: 2022, month: 1, day: 1 },
  });
  assert.equal(relation.diplomatic_status, 'DIPLOMATIC_STATUS_ESTABLISHED');
  assert.equal(relation.allied, true);
  assert.deepEqual(relation.treaties_in_force.map((t) => t.name), ['treaties/t04']);
});

test('GetCountry and ListTreaties', async () => {
  const country = await call(client(v1.CountryService), 'GetCountry', { name: 'countries/SU' });
  assert.deepEqual(country.end_date, { year: 1992, month: 0, day: 0 });
  const treaties = await call(client(v1.TreatyService), 'ListTreaties', { party: 'countries/AM', page_size: 100 });
  assert.deepEqual(
    treaties.treaties.map((t) => t.name),
    ['treaties/t01', 'treaties/t02', 'treaties/t03', 'treaties/t05', 'treaties/t06', 'treaties/t07'],
  );
});

test('SearchCountries resolves a name in any common spelling', async () => {
  for (const query of ['Türkiye', 'Turkey', 'tr']) {
    const found = await call(client(v1.CountryService), 'SearchCountries', { query });
    assert.equal(found.matches[0].country.name, 'countries/TR', query);
    assert.equal(found.matches[0].score, 1);
  }
  const korea = await call(client(v1.CountryService), 'SearchCountries', { query: 'Korea', max_results: 5 });
  assert.deepEqual(korea.matches.slice(0, 2).map((m) => m.country.name), ['countries/KP', 'countries/KR']);
});

test('StreamHistory streams the Armenia–Azerbaijan timeline in order', async () => {
  const stream = client(v1.RelationService).StreamHistory({ parent: 'countries/AM/relations/AZ' });
  const entries = [];
  for await (const entry of stream) entries.push(entry);
  const records = entries.map((e) => e.record);
  const expected = ['events/c01', 'treaties/t01', 'events/c02', 'treaties/t03', 'events/c03',
    'treaties/t05', 'events/e01', 'meetings/m01', 'meetings/m04'];
  const positions = expected.map((r) => records.indexOf(r));
  assert.ok(positions.every((p) => p >= 0), `missing entries in ${records}`);
  assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
});

test('an invalid request fails with INVALID_ARGUMENT and BadRequest details', async () => {
  await assert.rejects(
    call(client(v1.RelationService), 'GetRelation', { name: 'countries/TR/relations/TR' }),
    (err) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /name: a country has no relation with itself/);
      assert.ok(err.metadata.get('grpc-status-details-bin').length > 0, 'rich error details sent');
      return true;
    },
  );
  await assert.rejects(call(client(v1.CountryService), 'GetCountry', { name: 'countries/QQ' }), (err) => {
    assert.equal(err.code, grpc.status.NOT_FOUND);
    return true;
  });
});

test('a deadline that has passed fails with DEADLINE_EXCEEDED', async () => {
  await assert.rejects(
    call(client(v1.RelationService), 'ListHistory', { parent: 'countries/AM' }, { deadline: Date.now() - 1 }),
    (err) => {
      assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
      return true;
    },
  );
});

test('GetRelation: NOT_APPLICABLE names the side that did not exist', async () => {
  const relation = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/AM/relations/AZ',
    as_of: { year: 1991, month: 10, day: 1 },
  });
  assert.equal(relation.diplomatic_status, 'DIPLOMATIC_STATUS_NOT_APPLICABLE');
  assert.deepEqual(relation.nonexistent_countries, ['countries/AZ']);
  const ussr = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/RU/relations/US',
    as_of: { year: 1980, month: 1, day: 1 },
  });
  assert.deepEqual(ussr.answered_for.map((s) => [s.asked, s.answered]), [['countries/RU', 'countries/SU']]);
});

test('LookupCountry finds the piece of a COW code that applies on a date', async () => {
  const found = await call(client(v1.CountryService), 'LookupCountry', {
    scheme: 'COUNTRY_CODE_SCHEME_COW_CODE',
    code: '345',
    date: { year: 1980, month: 0, day: 0 },
  });
  assert.deepEqual(found.matches.map((m) => m.country.name), ['countries/YU']);
  const all = await call(client(v1.CountryService), 'LookupCountry', { scheme: 'COUNTRY_CODE_SCHEME_COW_CODE', code: '345' });
  // One match a membership: Yugoslavia's is cut by the occupation of 1941-1944.
  assert.deepEqual(all.matches.map((m) => [m.country.name, m.start_date.year]),
    [['countries/cow-srb', 1878], ['countries/YU', 1918], ['countries/YU', 1944],
      ['countries/CS', 1992], ['countries/RS', 2006]]);
  await assert.rejects(
    call(client(v1.CountryService), 'LookupCountry', { scheme: 'COUNTRY_CODE_SCHEME_UNSPECIFIED', code: '345' }),
    (err) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /scheme/);
      return true;
    },
  );
});

test('GetRelation: a month names what changed in it; a day inside a partial date is uncertain', async () => {
  const month = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/RU/relations/UA',
    as_of: { year: 2022, month: 2, day: 0 },
  });
  assert.deepEqual(month.changed_within, ['events/c04', 'events/f06']);
  const open = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/TR/relations/AM',
    as_of: { year: 1991, month: 12, day: 10 },
  });
  assert.deepEqual(open.uncertain_records, ['events/f03']);
});

test('GetRelation lists the treaties not in force: the Zurich Protocols pending, then void', async () => {
  const pending = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/TR/relations/AM',
    as_of: { year: 2012, month: 1, day: 1 },
  });
  assert.deepEqual(pending.treaties_not_in_force.map((t) => [t.treaty.name, t.standing]),
    [['treaties/t02', 'TREATY_NOT_IN_FORCE_STANDING_SIGNED']]);
  const voided = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/TR/relations/AM',
    as_of: { year: 2019, month: 1, day: 1 },
  });
  assert.deepEqual(voided.treaties_not_in_force.map((t) => [t.standing, t.since]),
    [['TREATY_NOT_IN_FORCE_STANDING_VOID', { year: 2018, month: 3, day: 1 }]]);
});

test('GetRelation: mediations run over their periods, and a host is a venue', async () => {
  const almaty = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/AM/relations/AZ',
    as_of: { year: 2024, month: 5, day: 10 },
  });
  assert.deepEqual(almaty.mediations.map((m) => [m.mediator, m.role]),
    [['actors/osce-minsk-group', 'PARTICIPANT_ROLE_MEDIATOR']]);
  assert.ok(almaty.mediators.includes('countries/KZ'), 'the superseded list still counts hosts');
  const after = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/AM/relations/AZ',
    as_of: { year: 2026, month: 1, day: 1 },
  });
  assert.deepEqual(after.mediations, []);
});

test('Conflicts have two sides: C03 was not fought against Armenia', async () => {
  const c03 = await call(client(v1.EventService), 'GetEvent', { name: 'events/c03' });
  assert.deepEqual(c03.side_b.map((b) => [b.participant, b.standing]),
    [['actors/nagorno-karabakh-authorities', 'BELLIGERENT_STANDING_PRIMARY']]);
  const day = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/AM/relations/AZ',
    as_of: { year: 2023, month: 9, day: 19 },
  });
  assert.equal(day.armed_conflicts_count, 0);
  const authorities = await call(client(v1.ActorService), 'GetActor', { name: 'actors/nagorno-karabakh-authorities' });
  assert.equal(authorities.kind, 'ACTOR_KIND_DE_FACTO_AUTHORITY');
});

test('GetRelation: recognition and representation per direction, and the border', async () => {
  const relation = await call(client(v1.RelationService), 'GetRelation', {
    name: 'countries/TR/relations/AM',
    as_of: { year: 2009, month: 10, day: 10 },
  });
  assert.deepEqual(relation.recognitions.map((r) => [r.recognizer, r.recognized, r.standing]), [
    ['countries/AM', 'countries/TR', 'RECOGNITION_STANDING_UNKNOWN'],
    ['countries/TR', 'countries/AM', 'RECOGNITION_STANDING_RECOGNIZED'],
  ]);
  assert.deepEqual(relation.representations.map((r) => r.level),
    ['REPRESENTATION_LEVEL_UNKNOWN', 'REPRESENTATION_LEVEL_UNKNOWN']);
  assert.equal(relation.border.status, 'BORDER_STATUS_CLOSED');
  assert.equal(relation.border.record, 'events/f04');
  const recognitions = await call(client(v1.RelationService), 'ListRecognitions', {
    parent: 'countries/AM',
    as_of: { year: 2000, month: 1, day: 1 },
    standings: ['RECOGNITION_STANDING_RECOGNIZED'],
  });
  assert.deepEqual(recognitions.recognitions.map((r) => r.recognizer), ['countries/TR']);
});
