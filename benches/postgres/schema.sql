-- The PostgreSQL peer (#30): the same records as `diplomacy export` writes,
-- in the tables and indexes a PostgreSQL user would give them, and the
-- pair tables that GetRelation's query reads (relation.sql). Loaded by
-- load.sql; benches/postgres.sh and the cross-check test use it.
--
-- A partial date (a day, a month or a year, as google.type.Date allows) is
-- two columns: its first day and its precision (0 year, 1 month, 2 day),
-- which is what diplomacy's index keys hold (`PartialDate::sort_key`).

CREATE FUNCTION pd_first(d jsonb) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN d IS NULL OR coalesce((d->>'year')::int, 0) = 0 THEN NULL
              ELSE make_date((d->>'year')::int,
                             greatest(coalesce((d->>'month')::int, 0), 1),
                             CASE WHEN coalesce((d->>'month')::int, 0) = 0 THEN 1
                                  ELSE greatest(coalesce((d->>'day')::int, 0), 1) END)
         END
$$;

CREATE FUNCTION pd_prec(d jsonb) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN d IS NULL OR coalesce((d->>'year')::int, 0) = 0 THEN NULL
              WHEN coalesce((d->>'month')::int, 0) = 0 THEN 0
              WHEN coalesce((d->>'day')::int, 0) = 0 THEN 1
              ELSE 2 END::smallint
$$;

-- The last day a partial date can stand for ("2018-03": 2018-03-31).
CREATE FUNCTION pd_last(first date, prec smallint) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE prec WHEN 2 THEN first
                   WHEN 1 THEN (first + interval '1 month' - interval '1 day')::date
                   WHEN 0 THEN (first + interval '1 year' - interval '1 day')::date END
$$;

-- The first day after something that ended at a partial date: that day
-- when it is known, else the day after its period (`relation::end_of`).
CREATE FUNCTION pd_end_after(first date, prec smallint) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN prec = 2 THEN first ELSE pd_last(first, prec) + 1 END
$$;

-- As google.type.Date is written: 2009, 2009-10, 2009-10-10.
CREATE FUNCTION pd_text(first date, prec smallint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_char(first, CASE prec WHEN 0 THEN 'YYYY' WHEN 1 THEN 'YYYY-MM' ELSE 'YYYY-MM-DD' END)
$$;

-- The code of a resource name (countries/AM: AM).
CREATE FUNCTION country_code(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN name LIKE 'countries/_%' THEN substr(name, 11) END
$$;

-- The records, one table per kind and one per repeated field.
CREATE TABLE country (
  code text COLLATE "C" PRIMARY KEY
);
CREATE TABLE state_period (
  code        text COLLATE "C" NOT NULL REFERENCES country,
  start_first date, start_prec smallint,
  end_first   date, end_prec   smallint
);
CREATE INDEX ON state_period (code);
CREATE TABLE continuation (
  code        text COLLATE "C" NOT NULL REFERENCES country,
  predecessor text COLLATE "C" NOT NULL,
  link_first  date NOT NULL, link_prec smallint NOT NULL
);
CREATE INDEX ON continuation (code, link_first, link_prec);

CREATE TABLE event (
  name        text COLLATE "C" PRIMARY KEY,
  kind        text NOT NULL,
  actor       text COLLATE "C",
  start_first date NOT NULL, start_prec smallint NOT NULL,
  end_first   date, end_prec smallint
);
CREATE TABLE event_counterpart (
  event   text COLLATE "C" NOT NULL REFERENCES event,
  country text COLLATE "C" NOT NULL
);
CREATE TABLE belligerent (
  event       text COLLATE "C" NOT NULL REFERENCES event,
  side        char(1) NOT NULL,
  country     text COLLATE "C" NOT NULL,
  join_first  date, join_prec smallint,
  leave_first date, leave_prec smallint
);

CREATE TABLE treaty (
  name         text COLLATE "C" PRIMARY KEY,
  status       text NOT NULL,
  signed_first date, signed_prec smallint,
  eif_first    date, eif_prec smallint,
  term_first   date, term_prec smallint,
  place_country text COLLATE "C"
);
CREATE TABLE treaty_party (
  treaty        text COLLATE "C" NOT NULL REFERENCES treaty,
  country       text COLLATE "C" NOT NULL,
  consent_first date, consent_prec smallint,
  own_eif_first date, own_eif_prec smallint,
  withdrawal_first date, withdrawal_prec smallint
);
CREATE TABLE treaty_mediator (
  treaty  text COLLATE "C" NOT NULL REFERENCES treaty,
  country text COLLATE "C" NOT NULL
);

CREATE TABLE meeting (
  name        text COLLATE "C" PRIMARY KEY,
  start_first date NOT NULL, start_prec smallint NOT NULL,
  host        text COLLATE "C",
  place_country text COLLATE "C"
);
CREATE TABLE meeting_participant (
  meeting text COLLATE "C" NOT NULL REFERENCES meeting,
  country text COLLATE "C" NOT NULL
);
CREATE TABLE meeting_mediator (
  meeting text COLLATE "C" NOT NULL REFERENCES meeting,
  country text COLLATE "C" NOT NULL
);

-- A state's role in a treaty or a meeting (PARTICIPANT_ROLE_HOST, …).
CREATE TABLE involvement (
  record  text COLLATE "C" NOT NULL,
  country text COLLATE "C" NOT NULL,
  role    text NOT NULL
);

-- What GetRelation reads, one row per pair (low < high) and fact, each
-- table with the index its query walks.
CREATE TABLE pair_status (
  low text COLLATE "C" NOT NULL, high text COLLATE "C" NOT NULL,
  at_first date NOT NULL, at_prec smallint NOT NULL,
  record text COLLATE "C" NOT NULL,
  change text NOT NULL
);
CREATE TABLE pair_treaty (
  low text COLLATE "C" NOT NULL, high text COLLATE "C" NOT NULL,
  from_first date NOT NULL, from_prec smallint NOT NULL,
  end_day date,            -- the first day it no longer binds the pair
  record text COLLATE "C" NOT NULL
);
CREATE TABLE pair_conflict (
  low text COLLATE "C" NOT NULL, high text COLLATE "C" NOT NULL,
  from_first date NOT NULL, from_prec smallint NOT NULL,
  end_day date,            -- the day after the last day of fighting
  record text COLLATE "C" NOT NULL
);
CREATE TABLE pair_meeting (
  low text COLLATE "C" NOT NULL, high text COLLATE "C" NOT NULL,
  at_first date NOT NULL,
  record text COLLATE "C" NOT NULL
);
CREATE TABLE pair_mediator (
  low text COLLATE "C" NOT NULL, high text COLLATE "C" NOT NULL,
  mediator text COLLATE "C" NOT NULL,
  at_first date NOT NULL
);
