-- Every read of one employee's punches is served by punches_by_employee_time
-- (step 17, the same leading column); this older index only cost each
-- stored punch one more B-tree to update (issue 23).
DROP INDEX punches_employee_time;
