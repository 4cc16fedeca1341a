#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine

/// k-means and the scores that compare clusters with classes.
public enum Clustering {
    /// Lloyd's k-means on the rows of `x` with k-means++ seeding; returns the cluster of each row.
    public static func kmeans(_ x: Tensor, k: Int, iterations: Int = 100, using generator: inout RandomGenerator) throws -> [Int] {
        guard x.rank == 2 else {
            throw TrainingError(description: "k-means clusters the rows of a matrix (N×d), got \(Shape.describe(x.shape))"
                                + (x.rank > 2 ? "; one row per sample: reshape(x, \(x.shape[0]), -1)" : ""))
        }
        let (n, d) = (x.shape[0], x.shape[1])
        guard k >= 1, k <= n else { throw TrainingError(description: "k must be between 1 and the number of rows (\(n)), got \(k)") }
        let v = x.scalars
        func distance(_ i: Int, _ c: [Float], _ ci: Int) -> Float {
            var s: Float = 0
            for t in 0..<d { let diff = v[i * d + t] - c[ci * d + t]; s += diff * diff }
            return s
        }
        // k-means++: each next centre drawn with probability ∝ squared distance to the nearest one.
        var centres = [Float](repeating: 0, count: k * d)
        let first = generator.nextInt(below: n)
        for t in 0..<d { centres[t] = v[first * d + t] }
        var nearest = (0..<n).map { distance($0, centres, 0) }
        for c in 1..<k {
            let total = nearest.reduce(0, +)
            var pick = n - 1
            if total > 0 {
                var r = Float(generator.nextDouble()) * total
                for i in 0..<n {
                    r -= nearest[i]
                    if r <= 0 { pick = i; break }
                }
            } else {
                pick = generator.nextInt(below: n)
            }
            for t in 0..<d { centres[c * d + t] = v[pick * d + t] }
            for i in 0..<n { nearest[i] = Swift.min(nearest[i], distance(i, centres, c)) }
        }
        var assignment = [Int](repeating: -1, count: n)
        for _ in 0..<iterations {
            var changed = false
            for i in 0..<n {
                var best = 0, bestDistance = Float.infinity
                for c in 0..<k {
                    let dist = distance(i, centres, c)
                    if dist < bestDistance { bestDistance = dist; best = c }
                }
                if assignment[i] != best { assignment[i] = best; changed = true }
            }
            if !changed { break }
            var sums = [Float](repeating: 0, count: k * d), counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                counts[assignment[i]] += 1
                for t in 0..<d { sums[assignment[i] * d + t] += v[i * d + t] }
            }
            for c in 0..<k where counts[c] > 0 {
                for t in 0..<d { centres[c * d + t] = sums[c * d + t] / Float(counts[c]) }
            }
        }
        return assignment
    }

    /// Normalised mutual information (arithmetic mean normalisation), adjusted Rand index, and the
    /// accuracy of the best one-to-one matching of clusters to classes (Hungarian algorithm).
    public static func scores(clusters: [Int], labels: [Int]) throws -> (nmi: Double, ari: Double, accuracy: Double) {
        guard clusters.count == labels.count, !labels.isEmpty else {
            throw TrainingError(description: "clusters and labels must have the same, non-zero length (\(clusters.count) and \(labels.count))")
        }
        guard clusters.allSatisfy({ $0 >= 0 }), labels.allSatisfy({ $0 >= 0 }) else {
            throw TrainingError(description: "cluster and class ids must not be negative")
        }
        // Only the ids that occur matter: renumber them 0..k−1 so the table stays small.
        func compact(_ ids: [Int]) -> [Int] {
            var index: [Int: Int] = [:]
            return ids.map { id in
                if let i = index[id] { return i }
                index[id] = index.count
                return index.count - 1
            }
        }
        let clusters = compact(clusters), labels = compact(labels)
        guard Set(clusters).count * Set(labels).count <= 50_000_000 else {
            throw TrainingError(description: "too many distinct clusters and classes to compare")
        }
        let n = Double(labels.count)
        let a = (clusters.max() ?? 0) + 1, b = (labels.max() ?? 0) + 1
        var table = [[Double]](repeating: [Double](repeating: 0, count: b), count: a)
        for (c, l) in zip(clusters, labels) { table[c][l] += 1 }
        let rows = table.map { $0.reduce(0, +) }, cols = (0..<b).map { j in table.reduce(0) { $0 + $1[j] } }
        func entropy(_ counts: [Double]) -> Double { -counts.filter { $0 > 0 }.reduce(0) { $0 + $1 / n * Glibc.log($1 / n) } }
        var mutual = 0.0
        for i in 0..<a { for j in 0..<b where table[i][j] > 0 {
            mutual += table[i][j] / n * Glibc.log(table[i][j] * n / (rows[i] * cols[j]))
        } }
        let hc = entropy(rows), hl = entropy(cols)
        let nmi = hc + hl > 0 ? 2 * mutual / (hc + hl) : 1
        func pairs(_ x: Double) -> Double { x * (x - 1) / 2 }
        let index = table.flatMap { $0 }.reduce(0) { $0 + pairs($1) }
        let rowPairs = rows.reduce(0) { $0 + pairs($1) }, colPairs = cols.reduce(0) { $0 + pairs($1) }
        let expected = rowPairs * colPairs / Swift.max(pairs(n), 1)
        let maximum = (rowPairs + colPairs) / 2
        let ari = maximum - expected != 0 ? (index - expected) / (maximum - expected) : 1
        let matched = hungarianMaximum(table)
        return (nmi, ari, matched / n)
    }

    /// The largest total of a one-to-one assignment of rows to columns (Hungarian algorithm on costs).
    static func hungarianMaximum(_ weights: [[Double]]) -> Double {
        let size = Swift.max(weights.count, weights.first?.count ?? 0)
        guard size > 0 else { return 0 }
        let top = weights.flatMap { $0 }.max() ?? 0
        // Square cost matrix: cost = top − weight (padding costs top).
        var cost = [[Double]](repeating: [Double](repeating: top, count: size + 1), count: size + 1)
        for i in 0..<weights.count { for j in 0..<weights[i].count { cost[i + 1][j + 1] = top - weights[i][j] } }
        var u = [Double](repeating: 0, count: size + 1), v = [Double](repeating: 0, count: size + 1)
        var p = [Int](repeating: 0, count: size + 1), way = [Int](repeating: 0, count: size + 1)
        for i in 1...size {
            p[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: size + 1)
            var used = [Bool](repeating: false, count: size + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Double.infinity, j1 = 0
                for j in 1...size where !used[j] {
                    let cur = cost[i0][j] - u[i0] - v[j]
                    if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0...size {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var total = 0.0
        for j in 1...size where p[j] > 0 && p[j] <= weights.count && j <= weights[p[j] - 1].count {
            total += weights[p[j] - 1][j - 1]
        }
        return total
    }
}
