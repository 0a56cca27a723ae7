-- 0003_ledger: reserved; its module replaces this placeholder.
SELECT 1;
