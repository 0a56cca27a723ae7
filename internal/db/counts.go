package db

import "github.com/jackc/pgx/v5"

// KeyCounts reads the rows of a `SELECT key, count(*) … GROUP BY key`
// query into a map, and closes them.
func KeyCounts(rows pgx.Rows) (map[string]int, error) {
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}
