extension Topic {
    static let conse = Topic(
        name: "conse", title: "ConSE: convex combination of semantic embeddings",
        text: """
          No new training: take an ordinary classifier of the seen classes and embed an image as
          the average of the word vectors of its T most probable classes, weighted by their
          probabilities. The unseen class whose word vector is most similar (cosine) is the
          answer. An image that looks half tiger, half horse lands near "zebra". tl takes the
          cosines about the mean word vector of the table, so that what every class shares does
          not drown what tells them apart.
          """,
        formula: """
          e(x) = (1/Z) Σ_{t=1..T} p(ŷ_t|x) · s(ŷ_t),   Z = Σ_t p(ŷ_t|x);   predict argmax_u cos(e(x) − s̄, s(u) − s̄)
          """,
        example: """
          seed(1)
          zoo = animals(600)
          seen = without(zoo, ["zebra", "cow"])
          clf = mlp([2352, 32, 20])
          train(clf, seen, epochs=3, optimizer="adam", lr=0.001, quiet=true);
          cz = conse(clf, zoo.word_vectors, top=3)
          round(evaluate(cz, animals(100, classes=["zebra", "cow"], seed=2)).accuracy, 2)
          """)
}
