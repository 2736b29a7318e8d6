-- Headcount and payroll per department.
SELECT dept, count(*) AS n, sum(salary) AS payroll
FROM people
WHERE dept IS NOT NULL
GROUP BY dept
ORDER BY dept;
