-- Moves the records copied into raw_record (one `diplomacy export` line a
-- row) into the tables of schema.sql, then derives the pair tables as
-- diplomacy's writer derives its pair index (src/records/facts.rs):
-- status events, treaties in force for each pair of parties, armed
-- conflicts between primary belligerents, meetings and their third parties.
-- Mediation spans, recognition, representation, the border and treaties
-- not in force are not carried: GetRelation's cross-check compares the
-- rest.

INSERT INTO country
SELECT country_code(doc->'country'->>'name') FROM raw_record
WHERE doc ? 'country' AND country_code(doc->'country'->>'name') IS NOT NULL;

INSERT INTO state_period
SELECT country_code(c->>'name'),
       pd_first(p->'start_date'), pd_prec(p->'start_date'),
       pd_first(p->'end_date'), pd_prec(p->'end_date')
FROM raw_record, LATERAL (SELECT doc->'country' AS c) r,
     LATERAL jsonb_array_elements(coalesce(c->'existence', '[]')) p
WHERE doc ? 'country';

INSERT INTO continuation
SELECT country_code(c->>'name'), country_code(l->>'country'),
       pd_first(l->'date'), pd_prec(l->'date')
FROM raw_record, LATERAL (SELECT doc->'country' AS c) r,
     LATERAL jsonb_array_elements(coalesce(c->'predecessors', '[]')) l
WHERE doc ? 'country' AND l->>'kind' = 'SUCCESSION_KIND_CONTINUATION'
  AND country_code(l->>'country') IS NOT NULL AND pd_first(l->'date') IS NOT NULL;

INSERT INTO event
SELECT e->>'name', e->>'kind', country_code(e->>'actor'),
       pd_first(e->'start_date'), pd_prec(e->'start_date'),
       pd_first(e->'end_date'), pd_prec(e->'end_date')
FROM raw_record, LATERAL (SELECT doc->'event' AS e) r
WHERE doc ? 'event' AND pd_first(e->'start_date') IS NOT NULL;

INSERT INTO event_counterpart
SELECT DISTINCT e->>'name', country_code(c)
FROM raw_record, LATERAL (SELECT doc->'event' AS e) r,
     LATERAL jsonb_array_elements_text(coalesce(e->'counterparts', '[]')) c
WHERE doc ? 'event' AND country_code(c) IS NOT NULL
  AND EXISTS (SELECT 1 FROM event WHERE name = e->>'name');

INSERT INTO belligerent
SELECT e->>'name', s.side, country_code(b->>'participant'),
       pd_first(b->'join_date'), pd_prec(b->'join_date'),
       pd_first(b->'leave_date'), pd_prec(b->'leave_date')
FROM raw_record, LATERAL (SELECT doc->'event' AS e) r,
     LATERAL (VALUES ('a', e->'side_a'), ('b', e->'side_b')) s(side, list),
     LATERAL jsonb_array_elements(coalesce(s.list, '[]')) b
WHERE doc ? 'event' AND b->>'standing' = 'BELLIGERENT_STANDING_PRIMARY'
  AND country_code(b->>'participant') IS NOT NULL
  AND EXISTS (SELECT 1 FROM event WHERE name = e->>'name');

INSERT INTO treaty
SELECT t->>'name', coalesce(t->>'status', 'TREATY_STATUS_UNSPECIFIED'),
       pd_first(t->'signed_date'), pd_prec(t->'signed_date'),
       pd_first(t->'entry_into_force_date'), pd_prec(t->'entry_into_force_date'),
       pd_first(t->'termination_date'), pd_prec(t->'termination_date'),
       country_code(t->'place'->>'country')
FROM raw_record, LATERAL (SELECT doc->'treaty' AS t) r
WHERE doc ? 'treaty';

-- A party named twice counts once, as its first entry says.
INSERT INTO treaty_party
SELECT DISTINCT ON (t->>'name', country_code(p->>'country'))
       t->>'name', country_code(p->>'country'),
       pd_first(coalesce(p->'consent_date', p->'ratification_date')),
       pd_prec(coalesce(p->'consent_date', p->'ratification_date')),
       pd_first(p->'entry_into_force_date'), pd_prec(p->'entry_into_force_date'),
       pd_first(p->'withdrawal_date'), pd_prec(p->'withdrawal_date')
FROM raw_record, LATERAL (SELECT doc->'treaty' AS t) r,
     LATERAL jsonb_array_elements(coalesce(t->'parties', '[]')) WITH ORDINALITY AS x(p, n)
WHERE doc ? 'treaty' AND country_code(p->>'country') IS NOT NULL
ORDER BY t->>'name', country_code(p->>'country'), n;

INSERT INTO treaty_mediator
SELECT DISTINCT t->>'name', country_code(m)
FROM raw_record, LATERAL (SELECT doc->'treaty' AS t) r,
     LATERAL jsonb_array_elements_text(coalesce(t->'mediators', '[]')) m
WHERE doc ? 'treaty' AND country_code(m) IS NOT NULL;

INSERT INTO meeting
SELECT m->>'name', pd_first(m->'start_date'), pd_prec(m->'start_date'),
       country_code(m->>'host_country'), country_code(m->'place'->>'country')
FROM raw_record, LATERAL (SELECT doc->'meeting' AS m) r
WHERE doc ? 'meeting' AND pd_first(m->'start_date') IS NOT NULL;

INSERT INTO meeting_participant
SELECT DISTINCT m->>'name', country_code(p->>'country')
FROM raw_record, LATERAL (SELECT doc->'meeting' AS m) r,
     LATERAL jsonb_array_elements(coalesce(m->'participants', '[]')) p
WHERE doc ? 'meeting' AND country_code(p->>'country') IS NOT NULL
  AND EXISTS (SELECT 1 FROM meeting WHERE name = m->>'name');

INSERT INTO meeting_mediator
SELECT DISTINCT m->>'name', country_code(x)
FROM raw_record, LATERAL (SELECT doc->'meeting' AS m) r,
     LATERAL jsonb_array_elements_text(coalesce(m->'mediators', '[]')) x
WHERE doc ? 'meeting' AND country_code(x) IS NOT NULL
  AND EXISTS (SELECT 1 FROM meeting WHERE name = m->>'name');

INSERT INTO involvement
SELECT DISTINCT x->>'name', country_code(r->>'participant'), r->>'role'
FROM raw_record, LATERAL (SELECT coalesce(doc->'treaty', doc->'meeting') AS x) k,
     LATERAL jsonb_array_elements(coalesce(x->'roles', '[]')) r
WHERE (doc ? 'treaty' OR doc ? 'meeting') AND country_code(r->>'participant') IS NOT NULL;

DROP TABLE raw_record;

-- Status: the actor with each counterpart.
INSERT INTO pair_status
SELECT least(e.actor, c.country), greatest(e.actor, c.country),
       e.start_first, e.start_prec, e.name, substr(e.kind, 12)
FROM event e JOIN event_counterpart c ON c.event = e.name
WHERE e.actor IS NOT NULL AND c.country <> e.actor
  AND e.kind IN ('EVENT_KIND_RECOGNITION', 'EVENT_KIND_NO_RELATIONS',
                 'EVENT_KIND_RELATIONS_ESTABLISHED', 'EVENT_KIND_RELATIONS_RESTORED',
                 'EVENT_KIND_RELATIONS_DOWNGRADED', 'EVENT_KIND_RELATIONS_SEVERED',
                 'EVENT_KIND_NON_RECOGNITION', 'EVENT_KIND_RECOGNITION_WITHDRAWN');

-- Treaties: in force for a pair from the later of the two parties' starts
-- (a party's own entry into force, else the later of its consent and the
-- treaty's; with no consent recorded for any party, the treaty's), until
-- the first of termination and either withdrawal (relation::TreatyInterval).
INSERT INTO pair_treaty
WITH t AS (
  SELECT t.*,
         CASE WHEN eif_first IS NOT NULL THEN eif_first
              WHEN status IN ('TREATY_STATUS_IN_FORCE', 'TREATY_STATUS_TERMINATED') THEN signed_first END AS tf_first,
         CASE WHEN eif_first IS NOT NULL THEN eif_prec
              WHEN status IN ('TREATY_STATUS_IN_FORCE', 'TREATY_STATUS_TERMINATED') THEN signed_prec END AS tf_prec,
         EXISTS (SELECT 1 FROM treaty_party p WHERE p.treaty = t.name
                 AND (p.consent_first IS NOT NULL OR p.own_eif_first IS NOT NULL)) AS per_party
  FROM treaty t
), party AS (
  SELECT p.treaty, p.country, p.withdrawal_first, p.withdrawal_prec,
         CASE WHEN p.own_eif_first IS NOT NULL THEN p.own_eif_first
              WHEN NOT t.per_party AND p.consent_first IS NULL THEN t.tf_first
              WHEN p.consent_first IS NULL OR t.tf_first IS NULL THEN NULL
              WHEN t.tf_first > p.consent_first THEN t.tf_first
              ELSE p.consent_first END AS from_first,
         CASE WHEN p.own_eif_first IS NOT NULL THEN p.own_eif_prec
              WHEN NOT t.per_party AND p.consent_first IS NULL THEN t.tf_prec
              WHEN p.consent_first IS NULL OR t.tf_first IS NULL THEN NULL
              WHEN t.tf_first > p.consent_first THEN t.tf_prec
              ELSE p.consent_prec END AS from_prec
  FROM treaty_party p JOIN t ON t.name = p.treaty
), pairs AS (
  SELECT a.treaty, a.country AS low, b.country AS high,
         CASE WHEN b.from_first > a.from_first THEN b.from_first ELSE a.from_first END AS from_first,
         CASE WHEN b.from_first > a.from_first THEN b.from_prec ELSE a.from_prec END AS from_prec,
         a.withdrawal_first AS wa_first, a.withdrawal_prec AS wa_prec,
         b.withdrawal_first AS wb_first, b.withdrawal_prec AS wb_prec
  FROM party a JOIN party b ON a.treaty = b.treaty AND a.country < b.country
  WHERE a.from_first IS NOT NULL AND b.from_first IS NOT NULL
)
SELECT p.low, p.high, p.from_first, p.from_prec,
       (SELECT pd_end_after(u.f, u.p)
        FROM (VALUES (1, t.term_first, t.term_prec), (2, p.wa_first, p.wa_prec),
                     (3, p.wb_first, p.wb_prec)) u(n, f, p)
        WHERE u.f IS NOT NULL ORDER BY u.f, u.n LIMIT 1),
       p.treaty
FROM pairs p JOIN t ON t.name = p.treaty;

-- Armed conflicts: each primary belligerent of one side with each of the
-- other, from the later joining (the event's start by default) to the
-- earlier leaving (its end).
INSERT INTO pair_conflict
WITH side AS (
  SELECT b.event, b.side, b.country,
         coalesce(b.join_first, e.start_first) AS join_first,
         CASE WHEN b.join_first IS NULL THEN e.start_prec ELSE b.join_prec END AS join_prec,
         CASE WHEN b.leave_first IS NULL THEN e.end_first ELSE b.leave_first END AS leave_first,
         CASE WHEN b.leave_first IS NULL THEN e.end_prec ELSE b.leave_prec END AS leave_prec
  FROM belligerent b JOIN event e ON e.name = b.event
  WHERE e.kind = 'EVENT_KIND_ARMED_CONFLICT'
), pairs AS (
  SELECT a.event, least(a.country, b.country) AS low, greatest(a.country, b.country) AS high,
         CASE WHEN a.join_first > b.join_first THEN a.join_first ELSE b.join_first END AS from_first,
         CASE WHEN a.join_first > b.join_first THEN a.join_prec ELSE b.join_prec END AS from_prec,
         (SELECT pd_last(u.f, u.p) FROM (VALUES (1, a.leave_first, a.leave_prec),
                                             (2, b.leave_first, b.leave_prec)) u(n, f, p)
          WHERE u.f IS NOT NULL ORDER BY pd_last(u.f, u.p), u.n LIMIT 1) AS last_day
  FROM side a JOIN side b ON a.event = b.event AND a.side = 'a' AND b.side = 'b'
  WHERE a.country <> b.country
)
SELECT low, high, from_first, from_prec, last_day + 1, event
FROM pairs WHERE last_day IS NULL OR last_day >= from_first;

-- Meetings: every pair of participating states.
INSERT INTO pair_meeting
SELECT a.country, b.country, m.start_first, m.name
FROM meeting m
JOIN meeting_participant a ON a.meeting = m.name
JOIN meeting_participant b ON b.meeting = m.name AND a.country < b.country;

-- Third parties of a pair, never one of the pair: a meeting's mediators,
-- facilitators, hosts and the country it took place in; a signed treaty's
-- mediators, the states hosting, mediating or facilitating it that are not
-- its parties, and the country it was signed in.
INSERT INTO pair_mediator
WITH meeting_third AS (
  SELECT meeting AS record, country FROM meeting_mediator
  UNION SELECT name, host FROM meeting WHERE host IS NOT NULL
  UNION SELECT name, place_country FROM meeting WHERE place_country IS NOT NULL
  UNION SELECT i.record, i.country FROM involvement i JOIN meeting m ON m.name = i.record
        WHERE i.role IN ('PARTICIPANT_ROLE_HOST', 'PARTICIPANT_ROLE_MEDIATOR', 'PARTICIPANT_ROLE_FACILITATOR')
), treaty_third AS (
  SELECT treaty AS record, country FROM treaty_mediator
  UNION SELECT name, place_country FROM treaty WHERE place_country IS NOT NULL
  UNION SELECT i.record, i.country FROM involvement i JOIN treaty t ON t.name = i.record
        WHERE i.role IN ('PARTICIPANT_ROLE_HOST', 'PARTICIPANT_ROLE_MEDIATOR', 'PARTICIPANT_ROLE_FACILITATOR')
          AND NOT EXISTS (SELECT 1 FROM treaty_party p WHERE p.treaty = i.record AND p.country = i.country)
)
SELECT pm.low, pm.high, third.country, pm.at_first
FROM pair_meeting pm JOIN meeting_third third ON third.record = pm.record
WHERE third.country NOT IN (pm.low, pm.high)
UNION ALL
SELECT a.country, b.country, third.country, t.signed_first
FROM treaty t
JOIN treaty_third third ON third.record = t.name
JOIN treaty_party a ON a.treaty = t.name
JOIN treaty_party b ON b.treaty = t.name AND a.country < b.country
WHERE t.signed_first IS NOT NULL AND third.country NOT IN (a.country, b.country);

CREATE INDEX ON pair_status (low, high, at_first DESC, at_prec DESC, record DESC) INCLUDE (change);
CREATE INDEX ON pair_treaty (low, high, from_first DESC, from_prec DESC, record DESC) INCLUDE (end_day);
CREATE INDEX ON pair_conflict (low, high, from_first DESC, from_prec DESC, record DESC) INCLUDE (end_day);
CREATE INDEX ON pair_meeting (low, high, at_first);
CREATE INDEX ON pair_mediator (low, high, mediator, at_first);
ANALYZE;
