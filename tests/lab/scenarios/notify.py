"""Notifications: a service in a crash loop and a one-off task that could not pull
its image, their EventBridge "ECS Task State Change" events, and what the Lambda
sends to: an SNS topic, an SQS queue subscribed to it (the SNS envelope, not raw
delivery), and the DynamoDB table that keeps it from sending a storm (TTL on)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from labkit import Lab, Probe, scenario
from scenarios.core import node_db_crash_log
from scenarios.reach import _app_exit, _event, _missing_image_revision, _pull_failure

REGION = "us-east-1"
CRASHES = 50
TOPIC = "ecs-doctor-notices"
QUEUE = "ecs-doctor-notices-inbox"
TABLE = "ecs-doctor-notices"
TTL_ATTRIBUTE = "expires_at"


def _moved(detail: dict, task_id: str, new_id: str, delta: timedelta):
    """The same crash, earlier, of a task ECS has since forgotten: its id and times moved."""
    if isinstance(detail, dict):
        return {k: _moved(v, task_id, new_id, delta) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_moved(v, task_id, new_id, delta) for v in detail]
    if isinstance(detail, datetime):
        return detail - delta
    if isinstance(detail, str):
        return detail.replace(task_id, new_id)
    return detail


def _notification_targets(lab: Lab) -> dict:
    sns, sqs, ddb = lab.client("sns"), lab.client("sqs"), lab.client("dynamodb")
    topic = sns.create_topic(Name=TOPIC)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
        }],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    ddb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "scope", "AttributeType": "S"},
                              {"AttributeName": "cause", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "scope", "KeyType": "HASH"},
                   {"AttributeName": "cause", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.update_time_to_live(TableName=TABLE,
                            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})
    return {"topic_arn": topic, "queue_url": queue_url, "queue_arn": queue_arn, "table": TABLE}


@scenario("notify-crash-loop",
          summary=f"service web crash-looping ({CRASHES} STOPPED events) and a one-off task with a bad tag; "
                  "SNS topic, subscribed SQS queue, DynamoDB table with TTL")
def notify_crash_loop(lab: Lab) -> dict:
    stack = lab.build_web_stack(network_opts={"public": True}, tags=("v1",), image_tag="v1")
    lab.create_service(stack.cluster, "web", stack.task_definition_arn, stack.network,
                       assign_public_ip=True, desired_count=1, created=lab.ago(days=1))
    ecs = lab.client("ecs")

    # The newest crash: ECS still holds the task.
    held = lab.run_task(stack.cluster, stack.task_definition_arn, service="web")
    _app_exit(lab, stack, held, lab.ago(minutes=1))
    detail = ecs.describe_tasks(cluster=stack.cluster, tasks=[held.arn])["tasks"][0]
    # The earlier crashes, a minute apart: tasks ECS no longer returns, known
    # from their events (and the logs their container wrote).
    events = []
    for i in range(CRASHES - 1, 0, -1):
        new_id = f"{lab.rng.getrandbits(128):032x}"
        delta = timedelta(minutes=i)
        earlier = _moved(detail, held.id, new_id, delta)
        lab.write_logs(stack.log_group, f"ecs/web/{new_id}",
                       node_db_crash_log(earlier["startedAt"] + timedelta(milliseconds=380)))
        events.append(_event(lab, earlier, earlier["stoppedAt"]))
    events.append(_event(lab, detail, detail["stoppedAt"]))

    # Another cause: a one-off task of a revision whose tag was never pushed.
    td2 = _missing_image_revision(lab, stack, "v7")
    one_off = lab.run_task(stack.cluster, td2, stack.network, assign_public_ip=True)
    _pull_failure(lab, one_off, f"{lab.registry()}/web:v7", lab.ago(seconds=30))
    one_off_detail = ecs.describe_tasks(cluster=stack.cluster, tasks=[one_off.arn])["tasks"][0]
    other_event = _event(lab, one_off_detail, one_off_detail["stoppedAt"])

    return {
        "cluster": stack.cluster,
        # The matrix asks about the held crash, as `ecs-doctor task` would.
        "task_arn": held.arn,
        "service": "web",
        "crash_events": events,
        "crash_task_arns": [e["detail"]["taskArn"] for e in events],
        "other_event": other_event,
        "other_task_arn": one_off.arn,
        **_notification_targets(lab),
    }


@notify_crash_loop.check
def _check_notify_crash_loop(p: Probe) -> None:
    info = p.info
    events = info["crash_events"]
    p.equal(len(events), CRASHES, "crash events")
    p.equal(len(set(info["crash_task_arns"])), CRASHES, "one task per crash event")
    p.equal({e["detail"]["group"] for e in events}, {"service:web"}, "the crashes are the service's")
    p.expect(all(e["detail"]["lastStatus"] == "STOPPED" for e in events), "every crash event is STOPPED")
    p.expect(all(e["detail"]["containers"][0]["exitCode"] == 1 for e in events), "every crash exited 1")
    p.equal(info["crash_task_arns"][-1], info["task_arn"], "the newest crash is the held task")
    times = [e["detail"]["stoppedAt"] for e in events]
    p.equal(times, sorted(times), "crash events oldest first")
    other = info["other_event"]["detail"]
    p.equal(other["stopCode"], "TaskFailedToStart", "the other task failed to start")
    p.equal(other["group"], "family:web", "the other task is a one-off")
    # The forgotten crashes' logs are there.
    logs = p.client("logs")
    forgotten = info["crash_task_arns"][0].rsplit("/", 1)[-1]
    got = logs.get_log_events(logGroupName="/ecs/web", logStreamName=f"ecs/web/{forgotten}", limit=5)
    p.expect(got["events"], "a forgotten crash's log lines")

    ddb = p.client("dynamodb")
    table = ddb.describe_table(TableName=info["table"])["Table"]
    p.equal([k["AttributeName"] for k in table["KeySchema"]], ["scope", "cause"], "table key")
    p.equal(table.get("BillingModeSummary", {}).get("BillingMode"), "PAY_PER_REQUEST", "on-demand table")
    ttl = ddb.describe_time_to_live(TableName=info["table"])["TimeToLiveDescription"]
    p.equal((ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")), ("ENABLED", TTL_ATTRIBUTE), "TTL")
    p.equal(ddb.scan(TableName=info["table"])["Count"], 0, "the table starts empty")

    # SNS delivers to the queue in moto's server mode, in the SNS envelope.
    sqs = p.client("sqs")
    subs = p.client("sns").list_subscriptions_by_topic(TopicArn=info["topic_arn"])["Subscriptions"]
    p.equal([(s["Protocol"], s["Endpoint"]) for s in subs], [("sqs", info["queue_arn"])], "subscription")
    p.client("sns").publish(TopicArn=info["topic_arn"], Subject="lab probe", Message='{"probe": 1}')
    got = sqs.receive_message(QueueUrl=info["queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=2)
    bodies = [json.loads(m["Body"]) for m in got.get("Messages", [])]
    p.equal([(b.get("Type"), b.get("Subject"), b.get("Message")) for b in bodies],
            [("Notification", "lab probe", '{"probe": 1}')], "SNS envelope in the queue")
