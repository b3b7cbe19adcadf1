import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.apache.lucene.analysis.core.WhitespaceAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.MMapDirectory;

/**
 * Lucene as a benchmark anchor, on the tokens every engine gets (one document or query per line,
 * tokens separated by spaces).
 *
 *   java LuceneBench index TOKENS INDEX_DIR THREADS
 *   java LuceneBench search INDEX_DIR QUERIES
 *
 * The index holds document ids and term frequencies (no positions, nothing stored), BM25 with
 * k1 = 1.5 and b = 0.75, merged to one segment. A search prints "started" as its first act (the
 * caller times the JVM start from it), then one line of JSON: load seconds, resident memory after
 * the load and after the queries, and each query's milliseconds for the top 10 after untimed
 * passes over all the queries for at least 3 seconds (the JIT's warm-up: a server's JVM is warm).
 */
public final class LuceneBench {
    private static final String FIELD = "body";
    private static final BM25Similarity BM25 = new BM25Similarity(1.5f, 0.75f);

    public static void main(String[] args) throws Exception {
        if (args[0].equals("index")) {
            index(Path.of(args[1]), Path.of(args[2]), Integer.parseInt(args[3]));
        } else {
            System.out.println("started");
            System.out.flush();
            search(Path.of(args[1]), Path.of(args[2]));
        }
    }

    private static void index(Path tokens, Path folder, int threads) throws Exception {
        FieldType type = new FieldType();
        type.setIndexOptions(IndexOptions.DOCS_AND_FREQS);
        type.setTokenized(true);
        type.setStored(false);
        type.freeze();
        IndexWriterConfig config = new IndexWriterConfig(new WhitespaceAnalyzer());
        config.setSimilarity(BM25);
        config.setRAMBufferSizeMB(1024);
        long started = System.nanoTime();
        try (IndexWriter writer = new IndexWriter(MMapDirectory.open(folder), config);
             BufferedReader reader = Files.newBufferedReader(tokens, StandardCharsets.UTF_8)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<String> batch = new ArrayList<>();
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                batch.add(line);
                if (batch.size() == 10_000) {
                    submit(pool, writer, batch, type);
                    batch = new ArrayList<>();
                }
            }
            submit(pool, writer, batch, type);
            pool.shutdown();
            pool.awaitTermination(1, TimeUnit.DAYS);
            writer.forceMerge(1);
            writer.commit();
        }
        System.out.printf("{\"build_s\": %.4f}%n", (System.nanoTime() - started) / 1e9);
    }

    private static void submit(ExecutorService pool, IndexWriter writer, List<String> lines, FieldType type) {
        pool.submit(() -> {
            for (String line : lines) {
                Document document = new Document();
                document.add(new Field(FIELD, line, type));
                writer.addDocument(document);
            }
            return null;
        });
    }

    private static void search(Path folder, Path queryFile) throws Exception {
        long started = System.nanoTime();
        IndexSearcher searcher = new IndexSearcher(DirectoryReader.open(MMapDirectory.open(folder)));
        searcher.setSimilarity(BM25);
        double loadSeconds = (System.nanoTime() - started) / 1e9;
        long rssAfterLoad = rssKilobytes();
        List<Query> queries = new ArrayList<>();
        for (String line : Files.readAllLines(queryFile, StandardCharsets.UTF_8)) {
            BooleanQuery.Builder builder = new BooleanQuery.Builder();
            for (String token : line.split(" ")) {
                builder.add(new TermQuery(new Term(FIELD, token)), BooleanClause.Occur.SHOULD);
            }
            queries.add(builder.build());
        }
        long warmUntil = System.nanoTime() + 3_000_000_000L;
        do {
            for (Query query : queries) {
                searcher.search(query, 10);
            }
        } while (System.nanoTime() < warmUntil);
        StringBuilder times = new StringBuilder();
        for (Query query : queries) {
            long t0 = System.nanoTime();
            searcher.search(query, 10);
            times.append(times.length() == 0 ? "" : ", ").append((System.nanoTime() - t0) / 1e6);
        }
        System.out.printf("{\"load_s\": %.6f, \"rss_after_load_mb\": %.1f, \"rss_after_queries_mb\": %.1f, \"times_ms\": [%s]}%n",
                loadSeconds, rssAfterLoad / 1024.0, rssKilobytes() / 1024.0, times);
    }

    private static long rssKilobytes() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
