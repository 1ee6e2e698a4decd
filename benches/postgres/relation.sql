-- GetRelation's semantics in SQL (src/api/relations.rs `relation_of`,
-- src/domain/relation.rs): the status and since when, the treaties in force
-- and armed conflicts (the newest `listed` of each, with their counts), the
-- meetings and the third parties named since both states existed.

-- The state that answers for `code` on `day`: itself, or the state it
-- continues by a link dated after `day`, followed down the chain.
CREATE FUNCTION answering_state(code text, day date) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  current text := code;
  earlier text;
BEGIN
  FOR i IN 1..16 LOOP
    SELECT c.predecessor INTO earlier FROM continuation c
    WHERE c.code = current AND day < c.link_first
    ORDER BY c.link_first, c.link_prec LIMIT 1;
    EXIT WHEN NOT FOUND;
    current := earlier;
  END LOOP;
  RETURN current;
END $$;

CREATE TYPE relation_answer AS (
  status         text,     -- UNKNOWN, NONE, ESTABLISHED, DOWNGRADED, SEVERED, NOT_APPLICABLE
  since          text,     -- as google.type.Date is written: 2009, 2009-10, 2009-10-10
  status_record  text,
  treaties       text[],   -- the newest `listed` in force, oldest first
  treaty_count   int,
  conflicts      text[],
  conflict_count int,
  meeting_count  int,
  mediators      text[]    -- in code order
);

-- The relation of countries `a` and `b` (codes) on the partial date
-- y[-m[-d]] (m, d 0: not given), read as its last day.
CREATE FUNCTION relation(a text, b text, y int, m int, d int, listed int DEFAULT 100)
RETURNS relation_answer
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  day date;
  lo text; hi text;
  side text;
  has_periods boolean;
  start_first date; start_prec smallint;
  both_first date; both_prec smallint;
  fact record;
  withdrawn record;
  recognized record;
  answer relation_answer;
BEGIN
  day := CASE WHEN m = 0 THEN make_date(y, 12, 31)
              WHEN d = 0 THEN (make_date(y, m, 1) + interval '1 month' - interval '1 day')::date
              ELSE make_date(y, m, d) END;
  lo := answering_state(a, day);
  hi := answering_state(b, day);
  IF lo = hi THEN
    answer.status := 'NOT_APPLICABLE';
    RETURN answer;
  END IF;
  IF hi < lo THEN
    side := lo; lo := hi; hi := side;
  END IF;

  -- Both states existed on the day; the later start of the two periods.
  FOREACH side IN ARRAY ARRAY[lo, hi] LOOP
    SELECT count(*) > 0 INTO has_periods FROM state_period p WHERE p.code = side;
    IF has_periods THEN
      SELECT p.start_first, p.start_prec INTO start_first, start_prec FROM state_period p
      WHERE p.code = side AND (p.start_first IS NULL OR p.start_first <= day)
        AND (p.end_first IS NULL OR day < pd_last(p.end_first, p.end_prec))
      LIMIT 1;
      IF NOT FOUND THEN
        answer.status := 'NOT_APPLICABLE';
        RETURN answer;
      END IF;
      IF start_first IS NOT NULL AND (both_first IS NULL OR start_first >= both_first) THEN
        both_first := start_first; both_prec := start_prec;
      END IF;
    END IF;
  END LOOP;

  -- The status: the newest fact that decides, reading newest first
  -- (relation::status_from_newest). A recognition decides only when
  -- nothing else does; a withdrawal of recognition severs relations that
  -- existed before it and otherwise leaves none.
  FOR fact IN
    SELECT s.at_first, s.at_prec, s.record, s.change FROM pair_status s
    WHERE s.low = lo AND s.high = hi AND s.at_first <= day
    ORDER BY s.at_first DESC, s.at_prec DESC, s.record DESC
  LOOP
    IF fact.change = 'RECOGNITION' THEN
      IF withdrawn IS NULL THEN recognized := fact; END IF;
      CONTINUE;
    END IF;
    IF fact.change = 'RECOGNITION_WITHDRAWN' THEN
      IF withdrawn IS NULL THEN withdrawn := fact; END IF;
      CONTINUE;
    END IF;
    IF withdrawn IS NOT NULL THEN
      answer.status := CASE WHEN fact.change IN ('RELATIONS_ESTABLISHED', 'RELATIONS_RESTORED',
                                                 'RELATIONS_DOWNGRADED', 'RELATIONS_SEVERED')
                            THEN 'SEVERED' ELSE 'NONE' END;
      fact := withdrawn;
    ELSE
      answer.status := CASE fact.change
        WHEN 'RELATIONS_ESTABLISHED' THEN 'ESTABLISHED'
        WHEN 'RELATIONS_RESTORED' THEN 'ESTABLISHED'
        WHEN 'RELATIONS_DOWNGRADED' THEN 'DOWNGRADED'
        WHEN 'RELATIONS_SEVERED' THEN 'SEVERED'
        ELSE 'NONE' END;
    END IF;
    EXIT;
  END LOOP;
  IF answer.status IS NULL THEN
    IF withdrawn IS NOT NULL THEN
      fact := withdrawn;
    ELSIF recognized IS NOT NULL THEN
      fact := recognized;
    END IF;
    answer.status := CASE WHEN withdrawn IS NOT NULL OR recognized IS NOT NULL THEN 'NONE'
                          ELSE 'UNKNOWN' END;
  END IF;
  IF answer.status <> 'UNKNOWN' THEN
    -- A fact dated before both states existed counts from the day they did.
    IF both_first IS NOT NULL AND both_first > fact.at_first THEN
      answer.since := pd_text(both_first, both_prec);
    ELSE
      answer.since := pd_text(fact.at_first, fact.at_prec);
    END IF;
    answer.status_record := fact.record;
  END IF;

  SELECT count(*) INTO answer.treaty_count FROM pair_treaty t
  WHERE t.low = lo AND t.high = hi
    AND t.from_first <= day AND (t.end_day IS NULL OR day < t.end_day);
  SELECT coalesce(array_agg(n.record ORDER BY n.k), '{}') INTO answer.treaties FROM (
    SELECT t.record, row_number() OVER (ORDER BY t.from_first, t.from_prec, t.record) AS k
    FROM (SELECT * FROM pair_treaty t
          WHERE t.low = lo AND t.high = hi
            AND t.from_first <= day AND (t.end_day IS NULL OR day < t.end_day)
          ORDER BY t.from_first DESC, t.from_prec DESC, t.record DESC
          LIMIT listed) t) n;

  SELECT count(*) INTO answer.conflict_count FROM pair_conflict c
  WHERE c.low = lo AND c.high = hi
    AND c.from_first <= day AND (c.end_day IS NULL OR day < c.end_day);
  SELECT coalesce(array_agg(n.record ORDER BY n.k), '{}') INTO answer.conflicts FROM (
    SELECT c.record, row_number() OVER (ORDER BY c.from_first, c.from_prec, c.record) AS k
    FROM (SELECT * FROM pair_conflict c
          WHERE c.low = lo AND c.high = hi
            AND c.from_first <= day AND (c.end_day IS NULL OR day < c.end_day)
          ORDER BY c.from_first DESC, c.from_prec DESC, c.record DESC
          LIMIT listed) c) n;

  -- Meetings and third parties count from the day both states existed.
  SELECT count(*) INTO answer.meeting_count FROM pair_meeting pm
  WHERE pm.low = lo AND pm.high = hi
    AND pm.at_first <= day AND (both_first IS NULL OR pm.at_first >= both_first);
  SELECT coalesce(array_agg(DISTINCT md.mediator ORDER BY md.mediator), '{}') INTO answer.mediators
  FROM pair_mediator md
  WHERE md.low = lo AND md.high = hi
    AND md.at_first <= day AND (both_first IS NULL OR md.at_first >= both_first);
  RETURN answer;
END $$;

-- The load generator's pair list, in the order its skewed draw indexes
-- (`diplomacy-tools pairs`), for the pgbench script.
CREATE TABLE bench_pair (
  idx  int PRIMARY KEY,
  a    text COLLATE "C" NOT NULL,
  b    text COLLATE "C" NOT NULL
);

-- One draw of the load generator's GetRelation scenario: pair `idx` of the
-- list, on a date drawn as `generate::random_date` draws one: year `y`,
-- month `m`, a day at `day_fraction` (0–999,999) of that month's days
-- (February has 28), and a precision digit `p` (0–9) that keeps a year
-- (0), a month (1, 2) or the day (3–9).
CREATE FUNCTION bench_relation(idx int, y int, m int, day_fraction int, p int)
RETURNS relation_answer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT relation(bp.a, bp.b, y,
                  CASE WHEN p = 0 THEN 0 ELSE m END,
                  CASE WHEN p <= 2 THEN 0
                       ELSE 1 + day_fraction * (ARRAY[31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[m] / 1000000 END)
  FROM bench_pair bp WHERE bp.idx = bench_relation.idx
$$;
