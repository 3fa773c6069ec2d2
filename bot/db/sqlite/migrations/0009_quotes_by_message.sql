-- 0009: "was this message quoted already?" becomes one index probe. It used to read every
-- quote of the message's author in the server and compare links, a cost that grows with a
-- prolific member's quotes; the lookup that runs on the event loop must not grow with data.
-- The wider index serves every query the old one did (its first two columns are the same).
DROP INDEX quotes_by_author;
CREATE INDEX quotes_by_author ON quotes (guild_id, author_id, source_url);
