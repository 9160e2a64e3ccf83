//! Read-only connections beside the one writer. In WAL mode readers never wait for the
//! writer or for each other, so pages and API reads no longer queue behind one mutex.
//! A semaphore admits as many reads as there are connections: the rest wait as tasks,
//! not as blocking threads parked on a lock.
use crate::error::Result;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::Mutex;
use tokio::sync::Semaphore;

pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    pub fn new(path: PathBuf, size: usize) -> Readers {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(size.max(1)),
        }
    }

    /// One reader per core, at least two (a slow export must not hold up every page).
    pub fn default_size() -> usize {
        std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
    }

    /// Runs `f` on an idle reader (opened on first need) on the blocking pool.
    pub async fn read<T, F>(self: &std::sync::Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let _permit = self.permits.acquire().await.expect("never closed");
        let readers = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let conn = match readers.take_idle() {
                Some(conn) => conn,
                None => open_reader(&readers.path)?,
            };
            let out = f(&conn);
            readers
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(conn);
            out
        })
        .await?
    }

    fn take_idle(&self) -> Option<Connection> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }
}

fn open_reader(path: &std::path::Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // A read that tried to write would fail here rather than race the writer.
    conn.pragma_update(None, "query_only", "ON")?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn readers_see_committed_writes_and_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("fabrik.db")).unwrap();
        store
            .call(|c| {
                c.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);")?;
                Ok(())
            })
            .await
            .unwrap();
        let x: i64 = store
            .read(|c| Ok(c.query_row("SELECT x FROM t", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(x, 7);
        let write = store
            .read(|c| Ok(c.execute("INSERT INTO t VALUES (8)", [])?))
            .await;
        assert!(write.is_err(), "a reader refused the write");
    }

    #[tokio::test]
    async fn parallel_reads_never_open_more_connections_than_permits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fabrik.db");
        drop(crate::store::Store::open(&path).unwrap());
        let readers = Arc::new(Readers::new(path, 2));
        let open_now = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let reads = (0..32).map(|_| {
            let (readers, open_now, most) = (readers.clone(), open_now.clone(), most.clone());
            tokio::spawn(async move {
                readers
                    .read(move |c| {
                        use std::sync::atomic::Ordering::SeqCst;
                        let n = open_now.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(n, SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        let one: i64 = c.query_row("SELECT 1", [], |r| r.get(0))?;
                        open_now.fetch_sub(1, SeqCst);
                        Ok(one)
                    })
                    .await
            })
        });
        for read in futures::future::join_all(reads).await {
            assert_eq!(read.unwrap().unwrap(), 1);
        }
        let most = most.load(std::sync::atomic::Ordering::SeqCst);
        assert!((1..=2).contains(&most), "{most} reads ran at once");
        assert!(readers.idle.lock().unwrap().len() <= 2);
    }
}
