"""Airflow DAG of the late-delivery pipeline: the SQL steps of
examples/late-delivery/sql run nightly on a Flint cluster, one task per
step, each with retries and a timeout. See README.md beside this file.

Configure the Airflow variables flint_driver (HOST:PORT of `flint
driver`), flint_tpch (the TPC-H tables, local folder or s3:// prefix),
flint_work (where features, evaluation and scores go) and
flint_slack_webhook (a Slack incoming webhook URL for alerts). The driver needs
--models pointing at the model store the steps share.

Every step is idempotent (COPY ... MODE overwrite, committed with a
_SUCCESS manifest; CREATE OR REPLACE MODEL). `flint submit` gets one
idempotency key per DAG run and step, the same on every try, with
--rerun-failed: a retry after a killed worker or a lost reply waits for
the job still running instead of starting a second one, a retry after a
success runs nothing, and only a job that failed, was cancelled or timed
out is run again. flint's --timeout (25m) is shorter than Airflow's
execution_timeout (30m), so the job ends TIMED_OUT (exit 4) before Airflow
kills the command.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

SQL = "/opt/flint/examples/late-delivery/sql"
WORK = "{{ var.value.flint_work }}/{{ ds }}"
DRIVER = "--driver {{ var.value.flint_driver }} --var WORK=" + WORK + " "
FEATURES = "--table features=" + WORK + "/features "


def submit(step, tables, script):
    """The command of a step run as a Flint job: the same on every try.

    One idempotency key per DAG run and step with --rerun-failed makes a
    retry wait for, or report, the job of an earlier try, and run it again
    only if it did not succeed. The driver posts a Slack message when the
    job fails (or is retried, cancelled, timed out) and when it is still
    running after 20 minutes.
    """
    return (
        f"flint submit --wait --timeout 25m --name late_delivery_{step} "
        f"--idempotency-key late_delivery_{step}_{{{{ run_id }}}} --rerun-failed "
        "--sla 20m --notify {{ var.value.flint_slack_webhook }} "
        + DRIVER + tables + f"-f {SQL}/{script}"
    )


default_args = {
    "owner": "ml-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    # Longer than flint's --timeout: the job ends TIMED_OUT (exit 4) first.
    "execution_timeout": timedelta(minutes=30),
}

with DAG(
    dag_id="late_delivery",
    start_date=datetime(2026, 12, 1),
    schedule="@daily",
    catchup=False,
    default_args=default_args,
    tags=["flint", "ml"],
) as dag:
    etl = BashOperator(
        task_id="etl",
        bash_command=submit("etl", "--tables {{ var.value.flint_tpch }} ", "01_etl.sql"),
    )
    # CREATE MODEL is not a job statement: flint sql runs it against the
    # cluster (the training query and the boosting run on the executors).
    # CREATE OR REPLACE MODEL makes a retry replace the model, not add one.
    train = BashOperator(
        task_id="train",
        bash_command="flint sql --timeout 25m " + DRIVER + FEATURES + f"-f {SQL}/02_train.sql",
    )
    evaluate = BashOperator(
        task_id="evaluate",
        bash_command=submit("evaluate", FEATURES, "03_evaluate.sql"),
    )
    score = BashOperator(
        task_id="score",
        bash_command=submit("score", FEATURES, "04_score.sql"),
    )
    etl >> train >> evaluate >> score
