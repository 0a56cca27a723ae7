-- 0019_gotv_welsh_reminders: a reminder step's Welsh text, written by the organiser: members
-- whose preferred language on the register is Welsh (members.language) get
-- it, and on a bilingual ballot members with no preference get both
-- (docs/gotv.md, "Languages"). NULL: the step has no Welsh text (steps
-- created before this migration; the campaign form requires it when the
-- ballot is bilingual or a member of the segment prefers Welsh).
ALTER TABLE gotv_steps
    ADD COLUMN template_cy text CHECK (template_cy IS NULL OR length(template_cy) BETWEEN 1 AND 1600);
