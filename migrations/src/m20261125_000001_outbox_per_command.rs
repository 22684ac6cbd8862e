//! One outbox row per command instead of one per event: a row names the application and the
//! range of event sequence numbers the command appended, and the relay reads the events
//! themselves (the old rows copied each event's kind and payload).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Seq,
    FirstSeq,
    LastSeq,
    Kind,
    Payload,
}

fn alter() -> TableAlterStatement {
    Table::alter().table(Outbox::Table).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One alteration per statement: SQLite takes no more.
        m.alter_table(
            alter()
                .rename_column(Outbox::Seq, Outbox::FirstSeq)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            alter()
                .add_column(
                    ColumnDef::new(Outbox::LastSeq)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("UPDATE outbox SET last_seq = first_seq")
            .await?;
        m.alter_table(alter().drop_column(Outbox::Kind).to_owned())
            .await?;
        m.alter_table(alter().drop_column(Outbox::Payload).to_owned())
            .await?;
        Ok(())
    }

    /// Back to one row per event, copying kind and payload from the events again.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            alter()
                .add_column(ColumnDef::new(Outbox::Kind).string().not_null().default(""))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            alter()
                .add_column(
                    ColumnDef::new(Outbox::Payload)
                        .text()
                        .not_null()
                        .default(""),
                )
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "INSERT INTO outbox (application_id, first_seq, last_seq, kind, payload, created_at, delivered_at) \
             SELECT e.application_id, e.seq, e.seq, e.kind, e.payload, o.created_at, o.delivered_at \
             FROM outbox o JOIN events e ON e.application_id = o.application_id \
             AND e.seq > o.first_seq AND e.seq <= o.last_seq",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE outbox SET \
             kind = (SELECT e.kind FROM events e WHERE e.application_id = outbox.application_id AND e.seq = outbox.first_seq), \
             payload = (SELECT e.payload FROM events e WHERE e.application_id = outbox.application_id AND e.seq = outbox.first_seq) \
             WHERE first_seq <> last_seq OR kind = ''",
        )
        .await?;
        m.alter_table(alter().drop_column(Outbox::LastSeq).to_owned())
            .await?;
        m.alter_table(
            alter()
                .rename_column(Outbox::FirstSeq, Outbox::Seq)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
