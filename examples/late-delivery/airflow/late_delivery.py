"""Airflow DAG of the late-delivery pipeline: the SQL steps of ../sql run
nightly on a Flint cluster, one task per step, each with retries and a
timeout.

Configure the Airflow variables flint_driver (HOST:PORT of `flint
driver`), flint_tpch (the TPC-H tables, local folder or s3:// prefix) and
flint_work (where features, evaluation and scores go). The driver needs
--models pointing at the model store the steps share.

Every step is idempotent (COPY ... MODE overwrite, CREATE OR REPLACE
MODEL), so an Airflow retry simply runs the step again. `flint submit`
gets an idempotency key per run, step and attempt: a submit repeated
within one attempt (a lost reply) returns the job already running instead
of starting a second one.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

SQL = "/opt/flint/examples/late-delivery/sql"
COMMON = (
    "--driver {{ var.value.flint_driver }} "
    "--var WORK={{ var.value.flint_work }}/{{ ds }} "
)

default_args = {
    "owner": "ml-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
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
        bash_command=(
            "flint submit --wait --timeout 25m --name late_delivery_etl "
            "--idempotency-key late_delivery_etl_{{ ds }}_{{ ti.try_number }} "
            "--tables {{ var.value.flint_tpch }} " + COMMON + f"-f {SQL}/01_etl.sql"
        ),
    )
    # Training runs the query on the cluster and trains in this process:
    # flint sql, not submit.
    train = BashOperator(
        task_id="train",
        bash_command=(
            "flint sql --timeout 25m --table features={{ var.value.flint_work }}/{{ ds }}/features "
            + COMMON + f"-f {SQL}/02_train.sql"
        ),
    )
    evaluate = BashOperator(
        task_id="evaluate",
        bash_command=(
            "flint submit --wait --timeout 25m --name late_delivery_evaluate "
            "--idempotency-key late_delivery_evaluate_{{ ds }}_{{ ti.try_number }} "
            "--table features={{ var.value.flint_work }}/{{ ds }}/features " + COMMON + f"-f {SQL}/03_evaluate.sql"
        ),
    )
    score = BashOperator(
        task_id="score",
        bash_command=(
            "flint submit --wait --timeout 25m --name late_delivery_score "
            "--idempotency-key late_delivery_score_{{ ds }}_{{ ti.try_number }} "
            "--table features={{ var.value.flint_work }}/{{ ds }}/features " + COMMON + f"-f {SQL}/04_score.sql"
        ),
    )
    etl >> train >> evaluate >> score
