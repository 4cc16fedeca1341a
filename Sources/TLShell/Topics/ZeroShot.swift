extension Topic {
    static let zeroShot = Topic(
        name: "zero-shot", title: "Zero-shot learning by attributes",
        text: """
          Recognise classes no training image showed, from a description every class has: a row
          of attributes (furry, striped, hooves, …) or a word vector. Two routes:
          - attribute_classifier(f): predict each attribute of an image; an unseen image goes to
            the class whose attribute row is most likely.
          - embedder(f, g=…, margin=k): map images (f) and attribute rows (g) into one space and
            train f(x)·g(y) to beat every other seen class by the margin; an unseen image goes
            to the class whose embedding scores highest. attributes= word vectors works the same.
            f(x) is batch-normalised and the score is a cosine (normalize=false: the raw dot
            product): raw image features share a large common part, every class then scores
            alike and the hinge stops at the margin — one class for every unseen image.
            Give the shared space some 64 dimensions (cnn(classes=64), linear(12, 64)): in 16
            the embedding fits the seen classes as well but tells unseen ones apart worse
            (animals, five seeds, an MLP f, 9 000 seen images: 0.50–0.53 against 0.64–0.70).
          Train on the seen classes, evaluate on data of the unseen ones only. Word vectors
          know what language knows, not what the images show: they fail where unseen classes
          are the seen ones' neighbours in language (dog, sheep, pig beside cat, goat, cow).
          """,
        formula: """
          attributes:  argmax_c Σ_m a_cm log σ(o_m) + (1 − a_cm) log(1 − σ(o_m))
          embedding:   L = max(0, k − f(x)·g(a_y) + max_{m≠y} f(x)·g(a_m)),  predict argmax_c f(x)·g(a_c)
                       with f(x) = BN(f(x))/‖BN(f(x))‖ and g(a) = g(a)/‖g(a)‖ by default
          """,
        example: """
          seed(1)
          zoo = animals(600)
          seen = without(zoo, ["zebra", "cow"])
          unseen = animals(100, classes=["zebra", "cow"], seed=2)
          ac = attribute_classifier(mlp([2352, 32, 12]))
          train(ac, seen, epochs=3, optimizer="adam", lr=0.001, quiet=true);
          round(evaluate(ac, unseen).accuracy, 2)
          """)
}
