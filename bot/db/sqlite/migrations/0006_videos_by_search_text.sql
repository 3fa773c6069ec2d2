-- A title typed by hand with its artist ("alright kendrick lamar") is looked up by the
-- folded title and artist: without this index that lookup read every video.
CREATE INDEX videos_by_search_text ON videos (search_text);
