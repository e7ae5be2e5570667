-- The refused records about one employee (the device was theirs), in id
-- order: the employee's own data export reads them without scanning every
-- refusal (issue 25).
CREATE INDEX rejected_by_employee ON rejected (employee_id, id);
